"""The catalog's raw SQL for PostgreSQL: the recompute staging set, election and pricing in SQL.

Same names as ``catalog.sql.sqlite``; pick through ``catalog.sql.dialect()``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.sql.tables import (
    ACTIVE_OFFER,
    APPROVAL,
    DIRTY,
    ELECTED,
    OFFER,
    PRODUCT,
    RANKED,
    RECOMPUTE_SET,
    STREAM,
)
from genesys.db import jit_off, pg_array_literal

# Whether ``recompute_set_elect`` elects and prices (True) or leaves it all to the policy.
ELECTS_IN_SQL = True


def recompute_set_reset(cursor: Any) -> None:
    """An empty staging set for this chunk (a session temp table emptied at commit), and no JIT
    for the chunk's statements (genesys.db.jit_off says why)."""
    jit_off(cursor)
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {RECOMPUTE_SET} (product_id bigint PRIMARY KEY, "
        "version bigint, run_id bigint, forced boolean NOT NULL DEFAULT false) ON COMMIT DELETE ROWS; "
        f"TRUNCATE {RECOMPUTE_SET}"
    )


def recompute_set_fill(cursor: Any, *, product_ids: Iterable[int], forced: bool = False) -> int:
    """Stage these products (COPY: ids cost nothing to quote); returns how many exist."""
    with cursor.cursor.copy(f"COPY {RECOMPUTE_SET} (product_id, forced) FROM STDIN") as copy:
        for product_id in product_ids:
            copy.write_row((product_id, forced))
    cursor.execute(f"ANALYZE {RECOMPUTE_SET}")  # its size decides index probes or scans
    # Ids of products deleted meanwhile may stay: every statement on the set joins the products.
    cursor.execute(
        f"SELECT count(*) FROM {RECOMPUTE_SET} AS r JOIN {PRODUCT} AS p ON p.id = r.product_id"  # noqa: S608
    )
    return cursor.fetchone()[0]


def recompute_set_fill_marks(cursor: Any, *, limit: int) -> int:
    """Stage the first ``limit`` dirty marks as read (product, version, run); returns how many."""
    cursor.execute(
        f"INSERT INTO {RECOMPUTE_SET} (product_id, version, run_id) "  # noqa: S608
        f"SELECT product_id, version, run_id FROM {DIRTY} ORDER BY product_id LIMIT %s",
        [limit],
    )
    staged = cursor.rowcount
    cursor.execute(f"ANALYZE {RECOMPUTE_SET}")  # its size decides index probes or scans
    return staged


def recompute_set_run_ids(cursor: Any) -> set[int]:
    cursor.execute(f"SELECT DISTINCT run_id FROM {RECOMPUTE_SET} WHERE run_id IS NOT NULL")  # noqa: S608
    return {row[0] for row in cursor.fetchall()}


def recompute_set_eol_revert(cursor: Any, *, now: datetime) -> list[tuple[int, int | None]]:
    """EOL products of the set with a sellable offer in stock come back; returns (product, run).

    The reverted products are marked ``forced`` in the set: their shop update carries the flag.
    """
    cursor.execute(
        f"WITH back AS (UPDATE {PRODUCT} AS p SET is_eol = false, updated_at = %s "  # noqa: S608
        f"FROM {RECOMPUTE_SET} AS r WHERE p.id = r.product_id AND p.is_eol "
        f"AND p.id = ANY(ARRAY(SELECT product_id FROM {RECOMPUTE_SET})) AND EXISTS ("
        f"SELECT 1 FROM {OFFER} AS i WHERE i.product_id = p.id AND i.stock > 0 AND i.hold_reason = '' "
        f"AND i.product_id = ANY(ARRAY(SELECT product_id FROM {RECOMPUTE_SET}))) "
        "RETURNING p.id) "
        f"UPDATE {RECOMPUTE_SET} AS r SET forced = true FROM back WHERE r.product_id = back.id "
        "RETURNING r.product_id, r.run_id",
        [now],
    )
    return sorted(cursor.fetchall())


def recompute_set_marks_delete(cursor: Any) -> int:
    """Delete the marks as staged: a mark renewed since (a higher version) stays."""
    cursor.execute(
        f"DELETE FROM {DIRTY} AS d USING {RECOMPUTE_SET} AS r "  # noqa: S608
        "WHERE d.product_id = r.product_id AND d.version = r.version "
        f"AND d.product_id = ANY(ARRAY(SELECT product_id FROM {RECOMPUTE_SET}))"
    )
    return cursor.rowcount


def _step(expression: str, function: str) -> str:
    """``expression`` rounded to a multiple of the rounding step with ``function``."""
    return f"round({function}(({expression}) / %(step)s::numeric) * %(step)s::numeric, %(places)s)"


_ROUND = {"half_up": "round", "up": "ceil", "down": "floor"}

# How the election reads the set's rows from the big tables. A set that is a small part of the
# catalog probes them by index, product by product (``OFFSET 0`` keeps the planner from
# turning that into a scan: the planner scanned all offers for a twentieth of them, 61 ms
# against 41 ms, and worse on a first ingest's stale estimates). A set of a quarter of the
# catalog or more is joined as the planner sees fit: hashing the tables beat the probes by a
# fifth at a third of the catalog, by a quarter for all of it.
_SET_READS = {
    "probed": {
        "/* set offers */": f"""CROSS JOIN LATERAL (
            SELECT * FROM {OFFER} AS i
            WHERE i.product_id = r.product_id AND i.hold_reason = '' AND i.price > 0 OFFSET 0
        ) AS i""",  # noqa: S608 (table names from the models)
        "/* set products */": f"""CROSS JOIN LATERAL (
            SELECT * FROM {PRODUCT} AS p WHERE p.id = r.product_id OFFSET 0
        ) AS p
        LEFT JOIN LATERAL (
            SELECT * FROM {ACTIVE_OFFER} AS a WHERE a.product_id = r.product_id OFFSET 0
        ) AS a ON true""",  # noqa: S608 (table names from the models)
    },
    "joined": {
        "/* set offers */": f"""JOIN {OFFER} AS i
            ON i.product_id = r.product_id AND i.hold_reason = '' AND i.price > 0""",
        "/* set products */": f"""JOIN {PRODUCT} AS p ON p.id = r.product_id
        LEFT JOIN {ACTIVE_OFFER} AS a ON a.product_id = r.product_id""",
    },
}
JOINED_SHARE = 4  # a set of at least 1/JOINED_SHARE of the catalog is joined, not probed


def _set_reads(*, staged: int, catalog: float) -> str:
    """``joined`` when the staged set is a large share of the catalog as the planner counts it
    (``catalog``: -1 for a table never analysed, which is probed); else ``probed``."""
    return "joined" if catalog > 0 and staged * JOINED_SHARE >= catalog else "probed"


def _with_reads(sql: str, reads: str) -> str:
    for marker, text in _SET_READS[reads].items():
        sql = sql.replace(marker, text)
    return sql


# The staged products whose shop state may change, each with its old state and the SQL's
# election and price. Costs are the landed costs of catalog.policies.landed; VAT is divided at
# 40 decimal places, far past the 4 the total is rounded to, so the result is Python's.
# A product is left out when nothing would change: the same election and price as its active
# offer (and its shop price) with no open approval. One with a pending approval of exactly this
# proposal that the price guard (catalog.policies.guard, as multiplications) still holds, with
# the active offer as held, is marked ``still_held``: nothing to write, one price held, counted.
_RANK = f"""
CREATE TEMP TABLE {RANKED} ON COMMIT DROP AS
WITH feeds AS (
    SELECT * FROM jsonb_to_recordset(%(feeds)s::jsonb)
        AS f(feed_id bigint, usable boolean, rate numeric, vat_divisor numeric)
), suppliers AS (
    SELECT * FROM jsonb_to_recordset(%(suppliers)s::jsonb)
        AS s(supplier_id bigint, priority integer, usable boolean, shipping numeric, percent numeric,
             free_above numeric, margin numeric, policy boolean)
), offers AS (
    -- Not a materialised CTE (every row written to a tuplestore and read back: a third of the
    -- statement), but fenced (``OFFSET 0`` below), so that the cost is computed once an offer
    -- and not once for each place the ranking uses it.
    SELECT * FROM (
    SELECT i.product_id, i.id AS item_id, i.supplier_id, i.stock, s.priority, s.policy,
           s.margin AS supplier_margin,
           round(c.converted
                 + CASE WHEN s.free_above IS NOT NULL AND c.converted >= s.free_above THEN 0
                        ELSE s.shipping END
                 + CASE WHEN s.percent = 0 THEN 0 ELSE round(c.converted * s.percent, 4) END,
                 4) AS cost
    FROM (
        -- The set's offers first (``_SET_READS``); the fact tables are then hashed once (in
        -- the same join, the planner rebuilt both hashes for every product).
        SELECT i.id, i.product_id, i.supplier_id, i.feed_id, i.price, i.stock
        FROM {RECOMPUTE_SET} AS r
        /* set offers */
        OFFSET 0
    ) AS i
    JOIN feeds AS f ON f.feed_id = i.feed_id AND f.usable
    JOIN suppliers AS s ON s.supplier_id = i.supplier_id AND s.usable
    CROSS JOIN LATERAL (
        SELECT CASE WHEN f.vat_divisor IS NULL THEN i.price
                    ELSE i.price::numeric(1000, 40) / f.vat_divisor END * f.rate AS converted
    ) AS c
    OFFSET 0
    ) AS fenced
), ranked AS (
    -- One sort, one window, no grouping. The policy's ranking (in stock first, then the lowest
    -- cost, the most stock, the highest priority, the oldest offer: catalog.policies.election),
    -- reversed, so that the winner is its partition's last row and the running frame there
    -- holds every offer: its aggregates are the whole partition's. (The ranking in its own
    -- order took a second window over the whole partition, a sixth of the statement.) Every
    -- key is reversed exactly, NULLs included, and the item id makes the order total.
    SELECT o.*,
           lead(true) OVER r IS NULL AS last,
           bool_or(o.policy) OVER r AS any_policy,
           array_agg(o.cost) OVER r AS ranked_costs
    FROM offers AS o
    WHERE o.cost > 0
    WINDOW r AS (PARTITION BY o.product_id
                 ORDER BY o.stock > 0, o.cost DESC, o.stock, o.priority, o.item_id DESC
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT product_id, item_id, supplier_id, cost, supplier_margin, any_policy,
       CASE WHEN stock > 0 THEN stock ELSE 0 END AS stock_sent,
       -- The other eligible offers' costs: the guard's market, whose median it takes. Sorted
       -- where the median depends on the order (three or more); one or two are as they come.
       CASE WHEN cardinality(ranked_costs) > 3
            THEN ARRAY(SELECT unnest(ranked_costs[:cardinality(ranked_costs) - 1]) ORDER BY 1)
            WHEN cardinality(ranked_costs) > 1
            THEN ranked_costs[:cardinality(ranked_costs) - 1] END AS costs,
       NULLIF(cardinality(ranked_costs) - 1, 0) AS n
FROM ranked WHERE last
"""  # noqa: S608 (table names from the models)

_ELECT = f"""
WITH categories AS (
    SELECT * FROM jsonb_to_recordset(%(categories)s::jsonb)
        AS c(category_id bigint, margin numeric, max_change numeric, min_margin numeric)
), open_approvals AS (
    SELECT product_id, count(*) AS n, max(status) AS status, max(supplier_item_id) AS supplier_item_id,
           max(new_price) AS new_price
    FROM {APPROVAL}
    WHERE status = 'pending' OR (status = 'approved' AND applied_at IS NULL)
    GROUP BY product_id
), proposals AS (
    -- Fenced (``OFFSET 0`` below) rather than materialised: each price is computed once, and
    -- the rows are not written to a tuplestore and read back (a fifth of the statement).
    SELECT * FROM (
    SELECT p.product_id, p.forced, p.run_id, w.item_id, w.supplier_id, w.cost, w.stock_sent, w.costs,
           COALESCE(w.any_policy, false) AS policy, m.margin, x.price,
           COALESCE(c.max_change, %(max_change)s::numeric) AS max_change,
           COALESCE(c.min_margin, %(min_margin)s::numeric) AS min_margin,
           COALESCE(c.margin, %(default_margin)s::numeric) AS typical_margin,
           (w.costs[(w.n + 1) / 2] + w.costs[(w.n + 2) / 2]) / 2 AS others_median,
           p.id, p.gtin, p.partnumber, p.name, p.margin AS product_margin, p.category_id, p.is_enabled,
           p.is_eol, p.id_ecommerce, p.weight, p.shop_price,
           p.a_product_id IS NOT NULL AS had_offer, p.a_supplier_id, p.a_item_id, p.a_cost,
           p.a_margin, p.a_price, p.a_stock,
           CASE WHEN p.a_product_id IS NOT NULL THEN p.a_price ELSE p.shop_price END AS last_price,
           q.n AS open_n, q.status AS open_status, q.supplier_item_id AS open_item, q.new_price AS open_price
    FROM (
        -- The set's products and active offers first (``_SET_READS``); the rest is hashed
        -- once (joined in one level, the planner rebuilt the categories' hash every product).
        SELECT r.product_id, r.forced, r.run_id, p.id, p.gtin, p.partnumber, p.name, p.margin,
               p.category_id, p.is_enabled, p.is_eol, p.id_ecommerce, p.weight, p.shop_price,
               a.product_id AS a_product_id, a.supplier_id AS a_supplier_id,
               a.supplier_item_id AS a_item_id, a.unit_cost AS a_cost, a.margin_applied AS a_margin,
               a.unit_price_sent AS a_price, a.stock_sent AS a_stock
        FROM {RECOMPUTE_SET} AS r
        /* set products */
        OFFSET 0
    ) AS p
    LEFT JOIN {RANKED} AS w ON w.product_id = p.product_id
    LEFT JOIN categories AS c ON c.category_id = p.category_id
    LEFT JOIN open_approvals AS q ON q.product_id = p.id
    CROSS JOIN LATERAL (
        SELECT COALESCE(p.margin, c.margin, w.supplier_margin, %(default_margin)s::numeric) AS margin
    ) AS m
    CROSS JOIN LATERAL (SELECT {_step("w.cost * (1 + m.margin)", "%(round)s")} AS rounded) AS y
    CROSS JOIN LATERAL (
        SELECT CASE WHEN y.rounded < w.cost THEN {_step("w.cost", "ceil")} ELSE y.rounded END AS price
    ) AS x
    OFFSET 0
    ) AS fenced
), judged AS (
    SELECT g.*,
        (g.a_item_id, g.a_supplier_id, g.a_cost, g.a_margin, g.a_price, g.a_stock)
            IS NOT DISTINCT FROM (g.item_id, g.supplier_id, g.cost, g.margin, g.price, g.stock_sent)
            AND (g.item_id IS NULL OR g.price IS NOT DISTINCT FROM g.shop_price) AS passed_unchanged,
        g.item_id IS NOT NULL AND g.price IS DISTINCT FROM g.last_price AND (
            (g.last_price <> 0 AND abs(g.price - g.last_price) > g.max_change * abs(g.last_price))
            OR g.price < g.cost * (1 + g.min_margin)
            OR (g.last_price IS NULL AND g.others_median IS NOT NULL
                AND g.others_median * (1 + g.typical_margin) > 0
                AND abs(g.price - g.others_median * (1 + g.typical_margin))
                    > g.max_change * g.others_median * (1 + g.typical_margin))
        ) AS held,
        CASE WHEN g.last_price IS NULL THEN NOT g.had_offer
             ELSE (g.a_item_id, g.a_supplier_id, g.a_cost, g.a_margin, g.a_price, g.a_stock)
                  IS NOT DISTINCT FROM (g.item_id, g.supplier_id, g.cost, g.margin, g.last_price,
                                        CASE WHEN g.last_price < g.cost THEN 0 ELSE g.stock_sent END)
        END AS as_held
    FROM proposals AS g
)
SELECT id, gtin, partnumber, name, product_margin, category_id, is_enabled, is_eol, id_ecommerce,
       weight, shop_price,
       a_supplier_id, a_item_id, a_cost, a_margin, a_price, a_stock,
       item_id, supplier_id, cost, margin, price, stock_sent, costs, policy, forced, run_id,
       NOT changed AS still_held,
       changed AND open_n IS NULL AND NOT policy AND NOT forced AND NOT %(force)s
           AND NOT COALESCE(held, false) AND id_ecommerce IS NULL
           AND (category_id IS NULL OR category_id <> ALL(%(auto_import)s::bigint[])) AS settled
FROM (
    SELECT j.*,
           %(force)s OR j.forced OR j.policy OR CASE
               WHEN j.open_n IS NULL THEN NOT j.passed_unchanged
               ELSE NOT COALESCE(
                   j.open_n = 1 AND j.open_status = 'pending' AND j.open_item = j.item_id
                   AND j.open_price = j.price AND j.held AND j.as_held, false)
           END AS changed
    FROM judged AS j
    OFFSET 0  -- ``changed`` once a product, not once for each column that reads it
) AS v
WHERE changed OR open_n IS NOT NULL
"""  # noqa: S608 (table names from the models)

# The staged products the election settled in SQL alone (``settled``): a change, no open
# approval, no weight table, not forced, a price the guard lets through, and a product the shop
# does not know (nothing to stream). The policy would write for them exactly the active offer
# (new or changed), its removal when nothing is eligible any more, and the shop price; this
# writes the same, and returns what the policy's counters would say. Rows in
# ``tests/catalog/test_recompute_set.py`` are compared both ways on random catalogs.
_SETTLE = f"""
WITH settled AS (
    SELECT * FROM {ELECTED} WHERE settled
), removed AS (
    DELETE FROM {ACTIVE_OFFER} AS a
    WHERE a.product_id = ANY(ARRAY(
        SELECT id FROM settled WHERE item_id IS NULL AND a_supplier_id IS NOT NULL))
    RETURNING a.product_id
), written AS (
    INSERT INTO {ACTIVE_OFFER} AS a (product_id, supplier_id, supplier_item_id, unit_cost,
        margin_applied, unit_price_sent, stock_sent, updated_at)
    SELECT id, supplier_id, item_id, cost, margin, price, stock_sent, %(now)s FROM settled
    WHERE item_id IS NOT NULL AND (a_supplier_id, a_item_id, a_cost, a_margin, a_price, a_stock)
        IS DISTINCT FROM (supplier_id, item_id, cost, margin, price, stock_sent)
    ORDER BY id
    ON CONFLICT (product_id) DO UPDATE SET supplier_id = excluded.supplier_id,
        supplier_item_id = excluded.supplier_item_id, unit_cost = excluded.unit_cost,
        margin_applied = excluded.margin_applied, unit_price_sent = excluded.unit_price_sent,
        stock_sent = excluded.stock_sent, updated_at = excluded.updated_at
    RETURNING product_id
), repriced AS (
    SELECT id, price FROM settled WHERE item_id IS NOT NULL AND price IS DISTINCT FROM shop_price
), priced AS (
    -- The products by their key (``= ANY(ARRAY(…))``: an index probe per id, never a scan of
    -- the whole catalog per chunk, which a first ingest's size estimates would choose).
    UPDATE {PRODUCT} AS p SET shop_price = e.price FROM repriced AS e
    WHERE p.id = e.id AND p.id = ANY(ARRAY(SELECT id FROM repriced))
), counted AS (
    SELECT count(*) FILTER (WHERE e.a_supplier_id IS NULL) AS created,
        count(*) FILTER (WHERE e.a_supplier_id IS NOT NULL) AS updated
    FROM settled AS e
    WHERE e.item_id IS NOT NULL AND (e.a_supplier_id, e.a_item_id, e.a_cost, e.a_margin, e.a_price,
        e.a_stock) IS DISTINCT FROM (e.supplier_id, e.item_id, e.cost, e.margin, e.price, e.stock_sent)
)
SELECT (SELECT created FROM counted), (SELECT updated FROM counted),
    (SELECT count(*) FROM removed),
    (SELECT count(*) FROM {ELECTED} WHERE still_held),
    ARRAY(SELECT id FROM settled
          WHERE (a_supplier_id, a_price, COALESCE(a_stock, 0))
              IS DISTINCT FROM (supplier_id, price, COALESCE(stock_sent, 0))
          ORDER BY id)
"""  # noqa: S608 (table names from the models)


@dataclass(frozen=True, slots=True)
class Settled:
    """What the election wrote itself (``_SETTLE``), as the policy's counters would count it."""

    offers_created: int = 0
    offers_updated: int = 0
    offers_removed: int = 0
    prices_held: int = 0  # held still, as before: nothing to write, nothing returned
    changed_product_ids: list[int] = field(default_factory=list)


def recompute_set_elect(
    cursor: Any,
    *,
    facts: dict[str, Any],
    now: datetime,
    staged: int,
    force: bool = False,
    batch: int = 5000,
) -> tuple[Settled, Iterator[list[tuple]]]:
    """Elect and price the staged products; write those SQL settles; the rest's rows, in batches.

    ``cursor`` is a server-side cursor (``connection.chunked_cursor()``): a recompute may return
    every product, and only ``batch`` rows are in memory at a time. ``facts`` are the rules as
    plain JSON-able values (``catalog.services.offers``). Each row: the product's fields, its
    active offer, the winner (item, supplier, cost, margin, price, stock sent), the other eligible
    offers' costs, whether the policy must decide it, forced, run. A product whose price stays
    held as it was is only counted (``Settled.prices_held``). ``staged``: the set's size, which
    decides how the big tables are read (``_SET_READS``).
    """
    sql = _ELECT.replace("%(round)s", _ROUND[facts["rounding_mode"]])
    params = {
        "feeds": json.dumps(facts["feeds"]),
        "suppliers": json.dumps(facts["suppliers"]),
        "categories": json.dumps(facts["categories"]),
        "auto_import": pg_array_literal(facts["auto_import"]),
        "default_margin": facts["default_margin"],
        "max_change": facts["max_change"],
        "min_margin": facts["min_margin"],
        "step": facts["rounding_step"],
        "places": facts["rounding_places"],
        "force": force,
    }
    with cursor.db.cursor() as plain:
        # For this transaction: sorts of a whole catalog in memory (JIT is already off: the set
        # this elects was staged by ``recompute_set_reset``, in the same transaction).
        # ``set_config(…, true)`` is SET LOCAL, in the round trip that reads the catalog's size.
        plain.execute(
            "SELECT set_config('work_mem', '64MB', true), reltuples FROM pg_class WHERE oid = %s::regclass",
            [PRODUCT],
        )
        reads = _set_reads(staged=staged, catalog=plain.fetchone()[1])
        plain.execute(f"DROP TABLE IF EXISTS {RANKED}, {ELECTED}")
        # Each stage's rows go into a temp table, analysed before the next joins them: the
        # planner then knows there are as many winners as products (it once guessed 2 and
        # nested-looped 5,000 x 5,000 rows, 4 s a chunk); the big tables are read as
        # ``_SET_READS`` says.
        # Only the columns the next statements join or filter on are analysed (the row count
        # comes with any of them): the others' statistics would cost more than they tell.
        plain.execute(_with_reads(_RANK, reads), params)
        plain.execute(f"ANALYZE {RANKED} (product_id)")
        plain.execute(f"CREATE TEMP TABLE {ELECTED} ON COMMIT DROP AS {_with_reads(sql, reads)}", params)
        plain.execute(f"ANALYZE {ELECTED} (id, settled)")  # the writes join it to the big tables
        plain.execute(_SETTLE, {"now": now})
        created, updated, removed, held, changed = plain.fetchone()
    cursor.execute(
        f"SELECT {_ROW_COLUMNS} FROM {ELECTED} WHERE NOT settled AND NOT still_held ORDER BY id"  # noqa: S608
    )
    settled = Settled(created, updated, removed, held, list(changed))
    return settled, iter(lambda: cursor.fetchmany(batch), [])


_ROW_COLUMNS = (
    "id, gtin, partnumber, name, product_margin, category_id, is_enabled, is_eol, id_ecommerce, "
    "weight, shop_price, a_supplier_id, a_item_id, a_cost, a_margin, a_price, a_stock, "
    "item_id, supplier_id, cost, margin, price, stock_sent, costs, policy, forced, run_id"
)


def stream_merge_sql() -> str:
    """The DO UPDATE clause merging a change into a pending stream row: latest payload, reasons
    in first-seen order, the higher priority."""
    reasons = (
        "(SELECT COALESCE(jsonb_agg(r ORDER BY o), '[]'::jsonb) FROM ("  # noqa: S608 (own table)
        f" SELECT r, MIN(o) AS o FROM jsonb_array_elements({STREAM}.reasons || excluded.reasons)"
        " WITH ORDINALITY AS t(r, o) GROUP BY r) AS u)"
    )
    priority = f"GREATEST({STREAM}.priority, excluded.priority)"
    return (
        "payload = excluded.payload, event_type = excluded.event_type, "
        f"reasons = {reasons}, priority = {priority}, updated_at = excluded.updated_at"
    )


# -- product identity, set-based (catalog.services.products.products_merge_staged) -------------
#
# The rules are catalog.policies.identity's; these statements apply them to a whole staging table
# at once. They agree with the policy except where it reads state its own earlier rows changed:
# a GTIN filled onto a product that had none (rule 3 then no longer matches it, rule 6 may find
# a conflict). ``products_merge`` counts those rows first and leaves such a chunk to the policy.
# Every lookup is a correlated probe of a unique or leading index, whatever the statistics say.

_BPN_PROBE = """(
    SELECT p.id FROM {product} p
    WHERE p.brand_id = x.product_brand_id AND p.partnumber_normalized = x.product_pn
        AND p.variant = x.product_variant
        AND (x.product_variant <> '' OR x.product_gtin IS NULL OR p.gtin IS NULL)
    ORDER BY p.id + 0 LIMIT 1
)"""  # ``+ 0``: the oldest of the few with this brand and part number, never a walk of the pkey
# Rules 1-3: each proposal's stored product, on the state before the chunk (as the policy's
# candidates are); returns how many matched rows would fill a GTIN (the policy's stateful case).
_PRODUCTS_MATCH = """
WITH probed AS (
    SELECT s.pos, s.product_gtin, s.product_brand_id, s.product_pn, s.product_variant,
        CASE WHEN s.product_variant = '' AND s.product_gtin IS NOT NULL THEN (
            SELECT p.id FROM {product} p WHERE p.gtin = s.product_gtin
        ) END AS gid
    FROM {stage} s
), found AS (
    SELECT x.pos, x.product_gtin, COALESCE(x.gid, CASE
        WHEN x.product_brand_id IS NOT NULL AND x.product_pn <> '' THEN {bpn_probe} END) AS id
    FROM probed x
), matched AS (
    UPDATE {stage} s SET product_id = f.id, product_matched = true
    FROM found f WHERE s.pos = f.pos AND f.id IS NOT NULL
)
SELECT count(*) FROM found f
WHERE f.product_gtin IS NOT NULL AND (SELECT p.gtin IS NULL FROM {product} p WHERE p.id = f.id)
"""
# Rule 4: the products nobody has, created from the first row of each identity key, or nothing
# where a concurrent ingest has just created it. A row without GTIN joins the product the chunk's
# first new row with its brand and part number creates (with or without a GTIN).
_KEY_ORDER = (
    "key_gtin, CASE WHEN key_gtin IS NULL THEN product_brand_id END, "
    "CASE WHEN key_gtin IS NULL THEN product_pn END, CASE WHEN key_gtin IS NULL THEN product_variant END"
)
_PRODUCTS_CREATE = """
WITH keyed AS (
    SELECT s.*, CASE
        WHEN s.product_variant <> '' THEN NULL
        WHEN s.product_gtin IS NOT NULL THEN s.product_gtin
        WHEN s.product_brand_id IS NULL OR s.product_pn = '' THEN NULL
        ELSE first_value(s.product_gtin) OVER (
            PARTITION BY s.product_brand_id, s.product_pn, s.product_variant ORDER BY s.pos)
    END AS key_gtin
    FROM {stage} s WHERE s.product_id IS NULL
), made AS (
    INSERT INTO {product} (gtin, brand_id, partnumber, partnumber_normalized, name, description,
        image_url, weight, category_id, variant, is_enabled, is_eol, created_at, updated_at)
    SELECT key_gtin, product_brand_id, product_partnumber, product_pn, product_name,
        product_description, product_image_url, product_weight, product_category_id,
        product_variant, true, false, %(now)s, %(now)s
    FROM (SELECT DISTINCT ON ({key_order}) * FROM keyed ORDER BY {key_order}, pos) AS first_rows
    ORDER BY pos
    ON CONFLICT DO NOTHING
    RETURNING id, gtin, brand_id, partnumber_normalized, variant
), stamped AS (
    -- Each new row's key, and the product its key just made (one rewrite of the staged row);
    -- a key a concurrent ingest made first returned nothing here: ``_PRODUCTS_CREATED_READ``.
    UPDATE {stage} s SET product_key_gtin = k.key_gtin, product_id = COALESCE(g.id, b.id)
    FROM keyed k
    LEFT JOIN made g ON g.gtin = k.key_gtin
    LEFT JOIN made b ON k.key_gtin IS NULL AND b.gtin IS NULL AND b.brand_id = k.product_brand_id
        AND b.partnumber_normalized = k.product_pn AND b.variant = k.product_variant
    WHERE s.pos = k.pos
)
SELECT count(*) FROM made
"""
# The new rows whose key the statement above did not make: a concurrent ingest created it
# meanwhile (the unique constraints make each key exactly one product).
_PRODUCTS_CREATED_READ = """
UPDATE {stage} s SET product_id = COALESCE(
    (SELECT p.id FROM {product} p WHERE p.gtin = s.product_key_gtin),
    (SELECT p.id FROM {product} p
     WHERE s.product_key_gtin IS NULL AND p.gtin IS NULL AND p.brand_id = s.product_brand_id
        AND p.partnumber_normalized = s.product_pn AND p.variant = s.product_variant))
WHERE s.product_id IS NULL
"""
# Rule 5: a stored product's empty fields, from the chunk's first row that has them; the
# statement itself checks emptiness, so a concurrent edit is never overwritten.
_FILLED = (
    ("brand_id", "product_brand_id", False),
    ("partnumber", "product_partnumber", True),
    ("partnumber_normalized", "product_pn", True),
    ("name", "product_name", True),
    ("description", "product_description", True),
    ("image_url", "product_image_url", True),
    ("weight", "product_weight", False),
    ("category_id", "product_category_id", False),
)


def _fill_sql() -> str:
    """One UPDATE: per product, each field's first non-empty staged value, where it is empty."""
    firsts, sets, wanted = [], [], []
    for column, staged, text in _FILLED:
        given = f"{staged} <> ''" if text else f"{staged} IS NOT NULL"
        empty = f"COALESCE(p.{column}, '') = ''" if text else f"p.{column} IS NULL"
        firsts.append(f"(array_agg({staged} ORDER BY pos) FILTER (WHERE {given}))[1] AS {column}")
        fills = f"{empty} AND f.{column} IS NOT NULL"
        sets.append(f"{column} = CASE WHEN {fills} THEN f.{column} ELSE p.{column} END")
        wanted.append(f"({fills})")
    return (
        f"UPDATE {{product}} p SET {', '.join(sets)} "  # noqa: S608  (our own names only)
        f"FROM (SELECT product_id, {', '.join(firsts)} FROM {{stage}} WHERE product_matched "
        f"GROUP BY product_id) AS f WHERE p.id = f.product_id AND ({' OR '.join(wanted)})"
    )


_PRODUCTS_FILL = _fill_sql()


def products_merge(cursor: Any, *, stage: str, now: datetime) -> tuple[int, int] | None:
    """Apply the identity policy to every proposal staged in ``stage`` (its columns are
    ``catalog.sql.tables.PROPOSAL_*``), writing each row's product id into it; returns (products
    created, products filled), or None, having created nothing, for a chunk that fills a GTIN:
    the policy decides those (``products_staged_set`` writes its answer)."""
    names = {"stage": stage, "product": PRODUCT}
    cursor.execute(_PRODUCTS_MATCH.format(bpn_probe=_BPN_PROBE.format(**names), **names))
    if cursor.fetchone()[0]:
        return None
    cursor.execute(_PRODUCTS_CREATE.format(key_order=_KEY_ORDER, **names), {"now": now})
    (created,) = cursor.fetchone()
    cursor.execute(_PRODUCTS_CREATED_READ.format(**names))
    cursor.execute(_PRODUCTS_FILL.format(**names))
    return created, cursor.rowcount


def products_staged_set(cursor: Any, *, stage: str, product_of: dict[int, int]) -> None:
    """Write the policy's product ids (staged row's ``pos`` -> id) into the staging table."""
    cursor.execute(
        f"UPDATE {stage} s SET product_id = v.product_id "  # noqa: S608
        "FROM unnest(%s::integer[], %s::bigint[]) AS v (pos, product_id) WHERE s.pos = v.pos",
        [pg_array_literal(product_of), pg_array_literal(product_of.values())],
    )
