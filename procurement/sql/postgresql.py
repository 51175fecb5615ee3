"""The ingest's statements for PostgreSQL: one COPY per chunk, then one statement that merges the
offers, chains their events and marks their products dirty (a data-modifying CTE: every part
sees the offers as they were before it, and no id travels back to Python)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from genesys.db import jit_off
from procurement.sql.shape import OFFER_UPDATED, STAGE_COLUMNS, STAGE_WORK_COLUMNS, TABLES, MergeCounts

_NAMES = ", ".join(name for name, _ in STAGE_COLUMNS)
_DEFINITION = ", ".join(f"{name} {pg_type}" for name, pg_type in (*STAGE_COLUMNS, *STAGE_WORK_COLUMNS))
_ANALYZED = "pos, product_id, stock, product_brand_id, product_matched"
_UPDATE = ", ".join(f"{name} = excluded.{name}" for name in OFFER_UPDATED)

# Every statement below is built from our own table and column names only (no outside input).
# The big tables are reached per staged row through ``LATERAL (… LIMIT 1)``: the planner then
# always probes their unique indexes, whatever its statistics say (a first ingest's tables grow
# faster than autovacuum follows them, and a scan of the feed's offers per chunk makes a run
# quadratic: an ``= ANY(ARRAY(…))`` filter over 5,000 SKUs once cost 1.6 s a chunk).
_MERGE = f"""
WITH old AS (
    SELECT i.id, i.sku, i.product_id, i.price, i.stock
    FROM {TABLES["stage"]} s CROSS JOIN LATERAL (
        SELECT i.id, i.sku, i.product_id, i.price, i.stock FROM {TABLES["items"]} i
        WHERE i.feed_id = %(feed)s AND i.sku = s.sku LIMIT 1
    ) AS i
), up AS (
    INSERT INTO {TABLES["items"]} (
        feed_id, supplier_id, product_id, sku, gtin_raw, partnumber_raw, name_raw, brand_raw,
        price, stock, last_read_run_id, missing_since, row_hash, raw_hash, created_at, updated_at)
    SELECT %(feed)s, %(supplier)s, s.product_id, s.sku, s.gtin_raw, s.partnumber_raw, s.name_raw,
        s.brand_raw, s.price, s.stock, %(run)s, NULL, s.row_hash, s.raw_hash, %(now)s, %(now)s
    FROM {TABLES["stage"]} s ORDER BY s.pos
    ON CONFLICT (feed_id, sku) DO UPDATE SET {_UPDATE}
    RETURNING id, sku, product_id, price, stock
), changed AS (
    SELECT up.id, up.product_id, up.price, up.stock, old.product_id AS old_product_id,
        old.price AS old_price, old.stock AS old_stock,
        (old.id IS NULL OR old.product_id <> up.product_id) AS is_new
    FROM up LEFT JOIN old ON old.sku = up.sku
    WHERE old.id IS NULL OR old.product_id <> up.product_id
        OR old.price <> up.price OR old.stock <> up.stock
), ev AS (
    INSERT INTO {TABLES["events"]} (
        product_id, reason, created_at, supplier_id, supplier_item_id, old_price, new_price,
        old_stock, new_stock, run_id, note)
    SELECT product_id, CASE WHEN is_new THEN 'init' ELSE 'change' END, %(now)s, %(supplier)s, id,
        CASE WHEN is_new THEN NULL ELSE old_price END, price,
        CASE WHEN is_new THEN NULL ELSE old_stock END, stock, %(run)s, ''
    FROM changed ORDER BY id
    RETURNING 1
), marked AS (
    INSERT INTO {TABLES["dirty"]} (product_id, version, marked_at, run_id)
    SELECT product_id, 1, %(now)s, %(run)s FROM (
        SELECT product_id FROM changed
        UNION SELECT old_product_id FROM changed WHERE old_product_id IS NOT NULL
        UNION SELECT p.id FROM {TABLES["products"]} p WHERE p.is_eol
            AND p.id = ANY(ARRAY(SELECT product_id FROM {TABLES["stage"]} WHERE stock > 0))
    ) AS d ORDER BY product_id
    ON CONFLICT (product_id) DO UPDATE SET version = {TABLES["dirty"]}.version + 1,
        marked_at = excluded.marked_at, run_id = excluded.run_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM up) - (SELECT count(*) FROM old), (SELECT count(*) FROM old),
    (SELECT count(*) FROM ev), (SELECT count(*) FROM marked)
"""  # noqa: S608

_META = f"""
INSERT INTO {TABLES["meta"]} AS m (product_id, key, value, updated_at)
SELECT DISTINCT ON (s.product_id, j.key) s.product_id, j.key, j.value, %(now)s
FROM {TABLES["stage"]} s CROSS JOIN LATERAL jsonb_each_text(s.meta::jsonb) AS j
WHERE s.meta IS NOT NULL
ORDER BY s.product_id, j.key, s.pos DESC
ON CONFLICT (product_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
    WHERE m.value <> excluded.value
"""  # noqa: S608


def chunk_stage(*, cursor: Any, rows: Sequence[Sequence[Any]]) -> int:
    """COPY the chunk's offers into the session's staging table (emptied first); returns rows."""
    import psycopg

    jit_off(cursor)  # for the chunk's transaction (genesys.db.jit_off says why)
    with psycopg.Cursor(cursor.cursor.connection) as raw:
        raw.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {TABLES['stage']} ({_DEFINITION}) ON COMMIT DELETE ROWS"
        )
        raw.execute(f"TRUNCATE {TABLES['stage']}")
        with raw.copy(f"COPY {TABLES['stage']} ({_NAMES}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # A temp table has no statistics: without them the planner guesses its size and may scan
        # every offer of the feed instead of looking the chunk's SKUs up. The row count comes with
        # any column; the narrow ones the merge's statements filter on are sampled, never the
        # texts (the whole row's statistics cost four times as much, mostly collation sorts).
        raw.execute(f"ANALYZE {TABLES['stage']} ({_ANALYZED})")
    return len(rows)


def chunk_merge(*, cursor: Any, feed_id: int, supplier_id: int, run_id: int, now: datetime) -> MergeCounts:
    """Upsert the staged offers, write their events and mark their products, in one statement."""
    cursor.execute(_MERGE, {"feed": feed_id, "supplier": supplier_id, "run": run_id, "now": now})
    created, changed, events, marked = cursor.fetchone()
    return MergeCounts(created, changed, events, marked)


def meta_merge(*, cursor: Any, now: datetime) -> int:
    """Upsert the staged rows' attributes (the chunk's later row wins a key); returns rows written."""
    cursor.execute(_META, {"now": now})
    return cursor.rowcount


def tables_rows(*, cursor: Any, tables: Sequence[str]) -> dict[str, int]:
    """The planner's row count of each table (0 for a table never analysed)."""
    cursor.execute(
        "SELECT relname, GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = ANY(%s)",
        [list(tables)],
    )
    return {name: rows for name, rows in cursor.fetchall()}


def tables_analyze(*, cursor: Any, tables: Mapping[str, Sequence[str]]) -> None:
    """Refresh the planner's statistics of these tables (a sample: constant time per table).

    In the caller's transaction, waiting at most a second for the table's lock: a VACUUM an
    operator runs holds it for as long as it takes, and the statistics can wait for a later chunk.
    """
    cursor.execute("SET LOCAL lock_timeout = '1s'")
    listed = (f"{table} ({', '.join(columns)})" for table, columns in tables.items())
    cursor.execute("ANALYZE " + ", ".join(listed))
