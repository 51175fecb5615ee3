"""The catalog's raw SQL for SQLite: the recompute staging set; election stays with the policy.

Same names as ``catalog.sql.postgresql``; pick through ``catalog.sql.dialect()``. SQLite keeps
decimals as binary floats, so money cannot be decided exactly in SQL: ``recompute_set_elect``
returns None and the Python policy elects and prices every staged product (the simpler path).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from catalog.sql.tables import DIRTY, OFFER, PRODUCT, RECOMPUTE_SET, STREAM

ELECTS_IN_SQL = False


def recompute_set_reset(cursor: Any) -> None:
    """An empty staging set for this chunk (a connection temp table)."""
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {RECOMPUTE_SET} (product_id integer PRIMARY KEY, "
        "version integer, run_id integer, forced integer NOT NULL DEFAULT 0)"
    )
    cursor.execute(f"DELETE FROM {RECOMPUTE_SET}")  # noqa: S608


def recompute_set_fill(cursor: Any, *, product_ids: Iterable[int], forced: bool = False) -> int:
    """Stage the existing products among these (one JSON parameter); returns how many."""
    cursor.execute(
        f"INSERT INTO {RECOMPUTE_SET} (product_id, forced) "  # noqa: S608
        f"SELECT id, %s FROM {PRODUCT} WHERE id IN (SELECT value FROM json_each(%s))",
        [int(forced), json.dumps(list(product_ids))],
    )
    return cursor.rowcount


def recompute_set_fill_marks(cursor: Any, *, limit: int) -> int:
    """Stage the first ``limit`` dirty marks as read (product, version, run); returns how many."""
    cursor.execute(
        f"INSERT INTO {RECOMPUTE_SET} (product_id, version, run_id) "  # noqa: S608
        f"SELECT product_id, version, run_id FROM {DIRTY} ORDER BY product_id LIMIT %s",
        [limit],
    )
    return cursor.rowcount


def recompute_set_run_ids(cursor: Any) -> set[int]:
    cursor.execute(f"SELECT DISTINCT run_id FROM {RECOMPUTE_SET} WHERE run_id IS NOT NULL")  # noqa: S608
    return {row[0] for row in cursor.fetchall()}


def recompute_set_eol_revert(cursor: Any, *, now: datetime) -> list[tuple[int, int | None]]:
    """EOL products of the set with a sellable offer in stock come back; returns (product, run).

    The reverted products are marked ``forced`` in the set: their shop update carries the flag.
    """
    cursor.execute(
        f"UPDATE {PRODUCT} SET is_eol = 0, updated_at = %s "  # noqa: S608
        f"WHERE is_eol AND id IN (SELECT product_id FROM {RECOMPUTE_SET}) AND EXISTS ("
        f"SELECT 1 FROM {OFFER} AS i WHERE i.product_id = {PRODUCT}.id AND i.stock > 0 "
        "AND i.hold_reason = '') RETURNING id",
        [cursor.db.ops.adapt_datetimefield_value(now)],
    )
    back = [row[0] for row in cursor.fetchall()]
    if not back:
        return []
    cursor.execute(
        f"UPDATE {RECOMPUTE_SET} SET forced = 1 WHERE product_id IN (SELECT value FROM json_each(%s))",  # noqa: S608
        [json.dumps(back)],
    )
    cursor.execute(
        f"SELECT product_id, run_id FROM {RECOMPUTE_SET} WHERE forced = 1 "  # noqa: S608
        "AND product_id IN (SELECT value FROM json_each(%s)) ORDER BY product_id",
        [json.dumps(back)],
    )
    return list(cursor.fetchall())


def recompute_set_marks_delete(cursor: Any) -> int:
    """Delete the marks as staged: a mark renewed since (a higher version) stays."""
    cursor.execute(
        f"DELETE FROM {DIRTY} WHERE EXISTS (SELECT 1 FROM {RECOMPUTE_SET} AS r "  # noqa: S608
        f"WHERE r.product_id = {DIRTY}.product_id AND r.version = {DIRTY}.version)"
    )
    return cursor.rowcount


def recompute_set_elect(
    cursor: Any,
    *,
    facts: dict[str, Any],
    now: datetime,
    staged: int,
    force: bool = False,
    batch: int = 5000,
) -> None:
    """None: on SQLite the policy elects and prices every staged product (``ELECTS_IN_SQL``)."""
    return None


def stream_merge_sql() -> str:
    """The DO UPDATE clause merging a change into a pending stream row: latest payload, reasons
    in first-seen order, the higher priority."""
    reasons = (
        "(SELECT json_group_array(value) FROM ("  # noqa: S608 (own table)
        f" SELECT value, MIN(k) AS k FROM (SELECT value, key AS k FROM json_each({STREAM}.reasons)"
        "  UNION ALL SELECT value, 1000000 + key FROM json_each(excluded.reasons))"
        " GROUP BY value ORDER BY k))"
    )
    priority = f"MAX({STREAM}.priority, excluded.priority)"
    return (
        "payload = excluded.payload, event_type = excluded.event_type, "
        f"reasons = {reasons}, priority = {priority}, updated_at = excluded.updated_at"
    )


def products_merge(cursor: Any, *, stage: str, now: datetime) -> tuple[int, int] | None:
    """SQLite leaves product identity to the policy (the simpler path): always None."""
    return None


def products_staged_set(cursor: Any, *, stage: str, product_of: dict[int, int]) -> None:
    """Write the policy's product ids (staged row's ``pos`` -> id) into the staging table."""
    cursor.executemany(
        f"UPDATE {stage} SET product_id = %s WHERE pos = %s",  # noqa: S608
        [(product_id, pos) for pos, product_id in product_of.items()],
    )
