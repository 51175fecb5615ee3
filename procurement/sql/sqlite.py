"""The ingest's statements for SQLite, the zero-setup database: the same staging table and the
same merge as PostgreSQL, in a few statements (SQLite has no data-modifying CTE, so the offers as
they were before the merge are kept in a second temp table for the events and marks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from procurement.sql.shape import OFFER_UPDATED, STAGE_COLUMNS, STAGE_WORK_COLUMNS, TABLES, MergeCounts

_NAMES = ", ".join(name for name, _ in STAGE_COLUMNS)
# ``pos`` is the rowid: the catalog's policy path writes each row's product id back by it.
_DEFINITION = ", ".join(
    "pos integer PRIMARY KEY" if name == "pos" else f"{name} {pg_type}"
    for name, pg_type in (*STAGE_COLUMNS, *STAGE_WORK_COLUMNS)
)
_UPDATE = ", ".join(f"{name} = excluded.{name}" for name in OFFER_UPDATED)

# Every statement below is built from our own table and column names only (no outside input).
_OLD = f"""
INSERT INTO {TABLES["old"]} (id, sku, product_id, price, stock)
SELECT i.id, i.sku, i.product_id, i.price, i.stock
FROM {TABLES["stage"]} s JOIN {TABLES["items"]} i ON i.feed_id = %s AND i.sku = s.sku
"""  # noqa: S608
_UPSERT = f"""
INSERT INTO {TABLES["items"]} (
    feed_id, supplier_id, product_id, sku, gtin_raw, partnumber_raw, name_raw, brand_raw,
    price, stock, last_read_run_id, missing_since, row_hash, raw_hash, created_at, updated_at)
SELECT %s, %s, s.product_id, s.sku, s.gtin_raw, s.partnumber_raw, s.name_raw, s.brand_raw,
    s.price, s.stock, %s, NULL, s.row_hash, s.raw_hash, %s, %s
FROM {TABLES["stage"]} s WHERE true ORDER BY s.pos
ON CONFLICT (feed_id, sku) DO UPDATE SET {_UPDATE}
"""  # noqa: S608
# The staged offers that are new, moved to another product, or repriced / restocked.
_CHANGED = f"""
SELECT i.id, s.product_id, s.price, s.stock, o.product_id AS old_product_id,
    o.price AS old_price, o.stock AS old_stock,
    (o.id IS NULL OR o.product_id <> s.product_id) AS is_new
FROM {TABLES["stage"]} s
JOIN {TABLES["items"]} i ON i.feed_id = %s AND i.sku = s.sku
LEFT JOIN {TABLES["old"]} o ON o.sku = s.sku
WHERE o.id IS NULL OR o.product_id <> s.product_id OR o.price <> s.price OR o.stock <> s.stock
"""  # noqa: S608
_EVENTS = f"""
INSERT INTO {TABLES["events"]} (
    product_id, reason, created_at, supplier_id, supplier_item_id, old_price, new_price,
    old_stock, new_stock, run_id, note)
SELECT product_id, CASE WHEN is_new THEN 'init' ELSE 'change' END, %s, %s, id,
    CASE WHEN is_new THEN NULL ELSE old_price END, price,
    CASE WHEN is_new THEN NULL ELSE old_stock END, stock, %s, ''
FROM ({_CHANGED}) ORDER BY id
"""  # noqa: S608
_MARK = f"""
INSERT INTO {TABLES["dirty"]} (product_id, version, marked_at, run_id)
SELECT product_id, 1, %s, %s FROM (
    SELECT product_id FROM ({_CHANGED})
    UNION SELECT old_product_id FROM ({_CHANGED}) WHERE old_product_id IS NOT NULL
    UNION SELECT s.product_id FROM {TABLES["stage"]} s
        JOIN {TABLES["products"]} p ON p.id = s.product_id WHERE s.stock > 0 AND p.is_eol
) WHERE true ORDER BY product_id
ON CONFLICT (product_id) DO UPDATE SET version = version + 1,
    marked_at = excluded.marked_at, run_id = excluded.run_id
"""  # noqa: S608
_META = f"""
INSERT INTO {TABLES["meta"]} (product_id, key, value, updated_at)
SELECT product_id, key, value, %s FROM (
    SELECT s.product_id, j.key, j.value, max(s.pos)
    FROM {TABLES["stage"]} s, json_each(s.meta) AS j
    WHERE s.meta IS NOT NULL
    GROUP BY s.product_id, j.key
) WHERE true
ON CONFLICT (product_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
    WHERE value <> excluded.value
"""  # noqa: S608


def _adapt(cursor: Any, value: Any) -> Any:
    # Django stores aware datetimes in SQLite as naive UTC text, and decimals as text.
    return cursor.db.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value


def chunk_stage(*, cursor: Any, rows: Sequence[Sequence[Any]]) -> int:
    """Load the chunk's offers into the connection's staging table (emptied first); returns rows."""
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {TABLES['stage']} ({_DEFINITION})")
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {TABLES['old']} "
        "(id integer, sku text, product_id integer, price numeric, stock integer)"
    )
    cursor.execute(f"DELETE FROM {TABLES['stage']}")  # noqa: S608
    cursor.execute(f"DELETE FROM {TABLES['old']}")  # noqa: S608
    marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
    cursor.executemany(f"INSERT INTO {TABLES['stage']} ({_NAMES}) VALUES ({marks})", rows)  # noqa: S608
    return len(rows)


def chunk_merge(*, cursor: Any, feed_id: int, supplier_id: int, run_id: int, now: datetime) -> MergeCounts:
    """Upsert the staged offers, write their events and mark their products."""
    when = _adapt(cursor, now)
    cursor.execute(_OLD, [feed_id])
    cursor.execute(f"SELECT count(*) FROM {TABLES['old']}")  # noqa: S608
    (changed,) = cursor.fetchone()
    cursor.execute(f"SELECT count(*) FROM {TABLES['stage']}")  # noqa: S608
    (staged,) = cursor.fetchone()
    cursor.execute(_UPSERT, [feed_id, supplier_id, run_id, when, when])
    cursor.execute(_EVENTS, [when, supplier_id, run_id, feed_id])
    events = cursor.rowcount
    cursor.execute(_MARK, [when, run_id, feed_id, feed_id])
    marked = cursor.rowcount
    return MergeCounts(staged - changed, changed, events, marked)


def meta_merge(*, cursor: Any, now: datetime) -> int:
    """Upsert the staged rows' attributes (the chunk's later row wins a key); returns rows written."""
    cursor.execute(_META, [_adapt(cursor, now)])
    return cursor.rowcount


def tables_rows(*, cursor: Any, tables: Sequence[str]) -> dict[str, int]:
    """SQLite's planner prefers an index without statistics: nothing to keep in step."""
    return {}


def tables_analyze(*, cursor: Any, tables: Mapping[str, Sequence[str]]) -> None:
    """Nothing to do (see ``tables_rows``); ANALYZE here would read every index in full."""
