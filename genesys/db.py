"""Database helpers for set-based work on thousands of ids at once.

``field__any_of=[...]`` matches a list of values with a single query parameter: ``= ANY(array)``
on PostgreSQL, ``IN (SELECT value FROM json_each(...))`` on SQLite. A plain ``__in`` with a few
thousand ids costs more in Django and driver parameter handling than in the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Iterable[Any], connection: Any) -> tuple[str, list[Any]]:
        return "%s", [list(value)]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        array_type = self.lhs.output_field.db_type(connection) or "text"
        array_type = {"serial": "integer", "bigserial": "bigint"}.get(array_type, array_type)
        return f"{lhs} = ANY(%s::{array_type}[])", [*lhs_params, values]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 (lhs is a column name)
        return sql, [*lhs_params, json.dumps(list(self.rhs))]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys keep their own lookup registry


def bulk_upsert(
    *,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    conflict: str,
    update: str,
    cursor: Any,
) -> None:
    """INSERT ... ON CONFLICT for many rows with few parameters.

    ``columns`` are (name, PostgreSQL type) pairs; ``conflict`` is the conflict target
    (``(product_id)`` or ``(product_id, shop) WHERE status = 'pending'``); ``update`` the
    ``DO UPDATE SET`` list, written with ``excluded.<column>`` and ``<table>.<column>``.
    On PostgreSQL each column travels as one array (``unnest``), so a batch of 10,000 rows is a
    single statement with one parameter per column; SQLite gets multi-row VALUES.
    """
    if not rows:
        return
    quoted = connection_quote(table)
    names = ", ".join(name for name, _ in columns)
    tail = f"ON CONFLICT {conflict} DO UPDATE SET {update}"
    if cursor.db.vendor == "postgresql":
        _pg_copy_upsert(table=table, columns=columns, rows=rows, tail=tail, cursor=cursor)
        return
    adapt = cursor.db.ops.adapt_datetimefield_value
    rows = [[adapt(v) if isinstance(v, datetime) else v for v in row] for row in rows]
    per_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    size = max(1, 30_000 // len(columns))
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        sql = f"INSERT INTO {quoted} ({names}) VALUES {', '.join([per_row] * len(batch))} {tail}"  # noqa: S608
        cursor.execute(sql, [value for row in batch for value in row])


def _pg_copy_upsert(
    *, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], tail: str, cursor: Any
) -> None:
    """COPY the rows into a session temp table, then one INSERT ... SELECT ... ON CONFLICT.

    COPY moves rows in C without per-value quoting in Python; it is several times faster than
    parameterised INSERTs for thousands of rows. The temp table lives for the session and is
    emptied before each use (and at commit).
    """
    import psycopg
    from django.db import transaction

    names = ", ".join(name for name, _ in columns)
    staging = connection_quote(f"genesys_staging_{table}")
    definition = ", ".join(f"{name} {pg_type}" for name, pg_type in columns)
    with transaction.atomic(), psycopg.Cursor(cursor.cursor.connection) as raw:
        raw.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} ({definition}) ON COMMIT DELETE ROWS")
        raw.execute(f"TRUNCATE {staging}")
        with raw.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.execute(
            f"INSERT INTO {connection_quote(table)} ({names}) SELECT {names} FROM {staging} {tail}"  # noqa: S608
        )


def transaction_mutex(*, name: str, cursor: Any) -> None:
    """Serialise transactions that take the same named mutex, until they commit or roll back.

    PostgreSQL: a transaction-scoped advisory lock (no row is written, unlike SELECT FOR UPDATE
    over thousands of rows). SQLite needs nothing: Genesys opens its transactions IMMEDIATE, so
    writers are already serialised.
    """
    if cursor.db.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def connection_quote(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)
