"""Database helpers for set-based work on thousands of ids at once.

``field__any_of=[...]`` matches a list of values with a single query parameter: ``= ANY(array)``
on PostgreSQL, ``IN (SELECT value FROM json_each(...))`` on SQLite. A plain ``__in`` with a few
thousand ids costs more in Django and driver parameter handling than in the database. Paths
that filter by a chunk's worth of values wrap them in ``PlainValues``, which Django hands to
the lookup without walking them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import Field, ForeignObject, Lookup

logger = logging.getLogger(__name__)
T = TypeVar("T")


class PlainValues:
    """Values for ``__any_of`` that Django hands to the lookup as they are.

    Given a list or a tuple, Django resolves each item in case it is an expression: 0.5 to
    0.8 µs an item (measured), 55 to 80 ms for the 100,000 offers an unchanged re-run marks
    seen, on an ingest's main thread. The lookup takes plain values only, so walking them buys
    nothing.
    """

    __slots__ = ("values",)

    def __init__(self, values: Iterable[Any]) -> None:
        # Kept as a sequence: a query may be compiled more than once (a count, then the rows).
        self.values = values if isinstance(values, (list, tuple)) else list(values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"PlainValues({len(self.values)} values)"


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:  # a list, not one value
        return "%s", [list(value)]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        array_type = self.lhs.output_field.db_type(connection) or "text"
        array_type = {"serial": "integer", "bigserial": "bigint"}.get(array_type, array_type)
        values = pg_array_literal(self.rhs)
        if _leads_an_index(getattr(self.lhs, "target", None)):
            # The planner sees an array of unknown length and probes the index per value. With
            # the length in sight it weighs 5,000 random reads against one sequential scan and
            # scans a 300,000-row table for each chunk of an ingest (its cost model assumes the
            # pages are on disk; they are in memory). A constant array stays for other columns:
            # in a filter it is hashed, where an unknown one would be searched row by row.
            return f"{lhs} = ANY(ARRAY(SELECT unnest(%s::{array_type}[])))", (*lhs_params, values)
        return f"{lhs} = ANY(%s::{array_type}[])", (*lhs_params, values)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 (lhs is a column name)
        return sql, (*lhs_params, json.dumps(list(self.rhs)))


def _leads_an_index(field: Any) -> bool:
    """Whether ``field``'s column is the first column of an index of its table."""
    if field is None or not getattr(field, "concrete", False):
        return False
    if field.primary_key or field.unique or field.db_index:
        return True
    meta = field.model._meta
    # A partial index serves only the rows of its condition: not a probe for any value.
    leading = [i.fields[0].lstrip("-") for i in meta.indexes if i.fields and i.condition is None]
    leading += [
        c.fields[0]
        for c in meta.constraints
        if getattr(c, "fields", None) and getattr(c, "condition", None) is None
    ]
    return field.name in leading


def pg_array_literal(values: Iterable[Any]) -> str:
    """``values`` as one PostgreSQL array literal (``{1,2}``, ``{"a","b\\"c"}``), to be cast.

    Django's PostgreSQL cursors bind parameters client-side, and psycopg quotes a list's
    elements one by one in Python (about 10 µs each): a chunk's 5,000 SKUs cost 50 ms before
    the query left. One string is quoted once, in C.
    """
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, bool):
            parts.append("t" if value else "f")
        elif isinstance(value, int):
            parts.append(str(value))
        else:
            text = str(value)
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys keep their own lookup registry


def bulk_insert(
    *,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    cursor: Any,
    on_conflict: str = "",
    returning: str = "",
) -> list[tuple]:
    """INSERT many rows in a few statements; returns the ``returning`` columns of written rows.

    ``columns`` are (name, PostgreSQL type) pairs. ``on_conflict`` is appended as is
    (``ON CONFLICT DO NOTHING``, ``ON CONFLICT (a, b) DO UPDATE SET c = excluded.c``).
    On PostgreSQL the rows are COPied into a session temp table and inserted with one
    INSERT ... SELECT: COPY moves values in C, while parameterised statements spent more time
    quoting values in Python than the database spent inserting them. SQLite gets multi-row VALUES.
    """
    if not rows:
        return []
    names = ", ".join(quote(name) for name, _ in columns)
    tail = f"{on_conflict} {f'RETURNING {returning}' if returning else ''}"
    if cursor.db.vendor == "postgresql":
        with transaction.atomic():
            staging = _pg_staging(columns=columns, rows=rows, cursor=cursor)
            sql = f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {staging} {tail}"  # noqa: S608
            cursor.execute(sql)
            return cursor.fetchall() if returning else []
    rows = _sqlite_adapt(rows, cursor)
    per_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    size = max(1, 30_000 // len(columns))
    written: list[tuple] = []
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        values = ", ".join([per_row] * len(batch))
        cursor.execute(
            f"INSERT INTO {quote(table)} ({names}) VALUES {values} {tail}",  # noqa: S608
            [value for row in batch for value in row],
        )
        if returning:
            written.extend(cursor.fetchall())
    return written


def bulk_upsert(
    *,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    conflict: str,
    update: str,
    cursor: Any,
) -> None:
    """INSERT ... ON CONFLICT <conflict> DO UPDATE SET <update> for many rows.

    ``update`` uses ``excluded.<column>`` for the new values and ``<table>.<column>`` for the
    stored ones.
    """
    bulk_insert(
        table=table,
        columns=columns,
        rows=rows,
        cursor=cursor,
        on_conflict=f"ON CONFLICT {conflict} DO UPDATE SET {update}",
    )


def bulk_update(
    *,
    table: str,
    key: tuple[str, str],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    cursor: Any,
    fill_only: Collection[str] = (),
) -> None:
    """UPDATE many rows by key, each with its own values (rows are (key, *values)).

    Columns named in ``fill_only`` are written only where the stored value is NULL or empty, in
    the statement itself, so a concurrent edit of a non-empty value is never overwritten.
    """
    if not rows:
        return
    text_types = ("text", "varchar")

    def target(name: str, pg_type: str, new: str, old: str) -> str:
        if name not in fill_only:
            return new
        if pg_type.startswith(text_types):  # empty text counts as unset; NULL leaves it as it was
            return f"COALESCE(NULLIF({old}, ''), {new}, {old})"
        return f"COALESCE({old}, {new})"

    if cursor.db.vendor == "postgresql":
        assignments = ", ".join(f"{n} = {target(n, t, f's.{n}', f't.{n}')}" for n, t in columns)
        with transaction.atomic():
            staging = _pg_staging(columns=[key, *columns], rows=rows, cursor=cursor)
            cursor.execute(
                f"UPDATE {quote(table)} AS t SET {assignments} FROM {staging} AS s "  # noqa: S608
                f"WHERE t.{key[0]} = s.{key[0]}"
            )
        return
    assignments = ", ".join(f"{n} = {target(n, t, '%s', n)}" for n, t in columns)
    cursor.executemany(
        f"UPDATE {quote(table)} SET {assignments} WHERE {key[0]} = %s",  # noqa: S608
        [(*row[1:], row[0]) for row in _sqlite_adapt(rows, cursor)],
    )


def _pg_staging(*, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], cursor: Any) -> str:
    """COPY rows into an empty session temp table shaped like ``columns``; returns its name."""
    import psycopg

    definition = ", ".join(f"{name} {pg_type}" for name, pg_type in columns)
    staging = quote("genesys_staging_" + hashlib.sha1(definition.encode()).hexdigest()[:12])  # noqa: S324
    names = ", ".join(name for name, _ in columns)
    with psycopg.Cursor(cursor.cursor.connection) as raw:
        raw.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} ({definition}) ON COMMIT DELETE ROWS")
        raw.execute(f"TRUNCATE {staging}")
        with raw.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return staging


def _sqlite_adapt(rows: Sequence[Sequence[Any]], cursor: Any) -> list[list[Any]]:
    # Django stores aware datetimes in SQLite as naive UTC text; raw SQL must do the same.
    adapt = cursor.db.ops.adapt_datetimefield_value
    return [[adapt(v) if isinstance(v, datetime) else v for v in row] for row in rows]


def transaction_mutex(*, name: str, cursor: Any) -> None:
    """Serialise transactions that take the same named mutex, until they commit or roll back.

    PostgreSQL: a transaction-scoped advisory lock (no row is written, unlike SELECT FOR UPDATE
    over thousands of rows). SQLite needs nothing: Genesys opens its transactions IMMEDIATE, so
    writers are already serialised.
    """
    if cursor.db.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def connections_refresh() -> None:
    """Close connections that broke or outlived CONN_MAX_AGE, as Django does around requests.

    Workers run jobs for days: without this they would reuse a connection the database closed.
    A connection inside a transaction is left alone (a job run in-process by a test).
    """
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def db_dialect(*, using: str = "default") -> str:
    """The database's dialect ("postgresql", "sqlite"): what modules with one SQL text per
    database choose by, so services never branch on the vendor themselves."""
    return connections[using].vendor


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def commit_without_waiting_for_disk() -> None:
    """Let this transaction's COMMIT return before its WAL reaches the disk (PostgreSQL).

    For bulk work that is re-run from its source anyway (a feed chunk): a server crash may lose
    the last fraction of a second of commits, never consistency, and the next run rewrites them.
    Meanwhile each chunk stops waiting for several megabytes of WAL to be flushed. Call it
    inside ``transaction.atomic()``: ``SET LOCAL`` ends with the transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def jit_off(cursor: Any) -> None:
    """No JIT compilation for the rest of this transaction (PostgreSQL only; call it there).

    PostgreSQL compiles a statement to machine code when its estimated cost passes
    ``jit_above_cost``. A chunk's statements are bounded (a few thousand rows, through indexes),
    but their estimates run high (a staging table's dead rows count, joins of CTEs are guessed),
    and the compilation then costs about half a second a statement for a tenth of a second of
    work: once the product merge updated the ingest's staging rows in place, a 100,000-row first
    ingest took 38.7 s with JIT and 21.7 s without.
    """
    cursor.execute("SET LOCAL jit = off")


def db_retry(func: Callable[[], T], *, what: str, seconds: float) -> T:
    """Call ``func`` until the database takes it, for up to ``seconds``, backing off.

    For the writes that must land after a database blip (a run's end, its retry): connection
    errors (``OperationalError``, ``InterfaceError``) close the broken connection and try again
    after 0.5, 1, 2 ... 15 s; any other error, an error inside a transaction (it cannot be
    retried from here) and the last error once ``seconds`` have passed are raised.
    """
    deadline = time.monotonic() + seconds
    delay = 0.5
    attempt = 1
    while True:
        try:
            return func()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise
            logger.warning(
                "%s: database unavailable (%s); attempt %s, retrying in %.1f s",
                what,
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                attempt,
                delay,
            )
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 15.0)
            attempt += 1


def fillfactor_operation(*, table: str, fillfactor: int, previous: int | None = None) -> Any:
    """A migration operation leaving ``fillfactor`` % of each new page of ``table`` filled, so that
    updates of unindexed columns stay on the page (PostgreSQL's HOT updates); nothing on SQLite.
    Existing pages take it as they are rewritten (VACUUM FULL makes it immediate). Reversed, the
    table gets ``previous`` back (None: the default, 100)."""
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {quote(table)} SET (fillfactor = {int(fillfactor)})")

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        if previous is None:
            schema_editor.execute(f"ALTER TABLE {quote(table)} RESET (fillfactor)")
        else:
            schema_editor.execute(f"ALTER TABLE {quote(table)} SET (fillfactor = {int(previous)})")

    return migrations.RunPython(forwards, backwards, elidable=False)
