"""Raw SQL of the catalog, once per database: ``dialect()`` is the module for this connection.

``catalog.sql.postgresql`` and ``catalog.sql.sqlite`` expose the same names; services call them
through ``dialect()`` and never branch on the vendor themselves. PostgreSQL elects and prices in
SQL; SQLite (the zero-setup default, whose numbers are binary floats) leaves election to the
Python policy and shares everything else.
"""

from __future__ import annotations

from types import ModuleType

from catalog.sql import postgresql, sqlite
from genesys.db import db_dialect

_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}


def dialect(*, using: str = "default") -> ModuleType:
    """The SQL module of this connection's database."""
    return _DIALECTS[db_dialect(using=using)]
