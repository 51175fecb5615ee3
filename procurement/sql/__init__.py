"""The ingest's raw SQL, once per database: ``postgresql`` and ``sqlite`` expose the same names.

A chunk is staged once (``chunk_stage``) and merged from the staging table: the offers with
their events and the catalog's dirty marks (``chunk_merge``), then the product attributes
(``meta_merge``). Services call these functions and never branch on the database themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import ModuleType
from typing import Any

from genesys.db import db_dialect
from procurement.sql import postgresql, sqlite
from procurement.sql.shape import STAGE_COLUMNS, STAGE_TABLE, MergeCounts

__all__ = [
    "STAGE_COLUMNS",
    "STAGE_TABLE",
    "MergeCounts",
    "chunk_merge",
    "chunk_stage",
    "dialect",
    "meta_merge",
    "tables_analyze",
    "tables_rows",
]

_DIALECTS: dict[str, ModuleType] = {"postgresql": postgresql, "sqlite": sqlite}


def dialect(*, using: str = "default") -> ModuleType:
    """The module holding this database's statements."""
    return _DIALECTS[db_dialect(using=using)]


def chunk_stage(*, cursor: Any, rows: Sequence[Sequence[Any]]) -> int:
    """Stage a chunk's offers (rows shaped like ``STAGE_COLUMNS``), replacing the last chunk's."""
    return dialect().chunk_stage(cursor=cursor, rows=rows)


def chunk_merge(*, cursor: Any, feed_id: int, supplier_id: int, run_id: int, now: datetime) -> MergeCounts:
    """Merge the staged offers: upsert them, write their events, mark their products dirty."""
    return dialect().chunk_merge(
        cursor=cursor, feed_id=feed_id, supplier_id=supplier_id, run_id=run_id, now=now
    )


def meta_merge(*, cursor: Any, now: datetime) -> int:
    """Upsert the staged rows' product attributes."""
    return dialect().meta_merge(cursor=cursor, now=now)


def tables_rows(*, cursor: Any, tables: Sequence[str]) -> dict[str, int]:
    """How many rows the planner believes each table has (empty where it keeps no such count)."""
    return dialect().tables_rows(cursor=cursor, tables=tables)


def tables_analyze(*, cursor: Any, tables: Mapping[str, Sequence[str]]) -> None:
    """Refresh the planner's statistics of these tables' columns (table -> columns)."""
    dialect().tables_analyze(cursor=cursor, tables=tables)
