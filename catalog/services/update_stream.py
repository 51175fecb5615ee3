"""Writes to the catalog update stream (the shop's outbox).

At most one *pending* row per product and shop exists (a partial unique index). A new change is
an INSERT ... ON CONFLICT on that index that merges into the pending row: payload refreshed to
the latest state, reasons accumulated in first-seen order, priority raised and never lowered.
Two writers racing on the same product both succeed and leave one merged row; there is no
check-then-insert window.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from catalog.models import CatalogUpdateStream
from catalog.models.update_stream import DEFAULT_SHOP
from genesys.db import bulk_upsert

_COLUMNS = (
    ("product_id", "bigint"),
    ("shop", "text"),
    ("event_type", "text"),
    ("payload", "jsonb"),
    ("reasons", "jsonb"),
    ("priority", "smallint"),
    ("status", "text"),
    ("attempts", "integer"),
    ("next_attempt_at", "timestamptz"),
    ("last_error", "text"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)


@dataclass
class StreamChange:
    product_id: int
    payload: dict[str, Any]
    reasons: list[str]
    priority: int
    shop: str = DEFAULT_SHOP
    event_type: str = CatalogUpdateStream.EventType.PRODUCT_STATE_CHANGED
    extra: dict[str, Any] = field(default_factory=dict)


def _dedupe(changes: Sequence[StreamChange]) -> list[StreamChange]:
    """One change per (product, shop) per statement: merge duplicates in Python first."""
    if len({(c.product_id, c.shop) for c in changes}) == len(changes):
        return list(changes)
    merged: dict[tuple[int, str], StreamChange] = {}
    for change in changes:
        key = (change.product_id, change.shop)
        previous = merged.get(key)
        if previous is None:
            merged[key] = StreamChange(
                product_id=change.product_id,
                payload=change.payload,
                reasons=list(dict.fromkeys(change.reasons)),
                priority=change.priority,
                shop=change.shop,
                event_type=change.event_type,
            )
        else:
            previous.payload = change.payload
            previous.reasons = list(dict.fromkeys([*previous.reasons, *change.reasons]))
            previous.priority = max(previous.priority, change.priority)
    return list(merged.values())


def _merge_sql() -> str:
    """DO UPDATE clause: latest payload, reasons in first-seen order, the higher priority."""
    table = connection.ops.quote_name(CatalogUpdateStream._meta.db_table)
    if connection.vendor == "postgresql":
        reasons = (
            "(SELECT COALESCE(jsonb_agg(r ORDER BY o), '[]'::jsonb) FROM ("  # noqa: S608 (own table)
            f" SELECT r, MIN(o) AS o FROM jsonb_array_elements({table}.reasons || excluded.reasons)"
            " WITH ORDINALITY AS t(r, o) GROUP BY r) AS u)"
        )
        priority = f"GREATEST({table}.priority, excluded.priority)"
    else:
        reasons = (
            "(SELECT json_group_array(value) FROM ("  # noqa: S608 (own table)
            f" SELECT value, MIN(k) AS k FROM (SELECT value, key AS k FROM json_each({table}.reasons)"
            "  UNION ALL SELECT value, 1000000 + key FROM json_each(excluded.reasons))"
            " GROUP BY value ORDER BY k))"
        )
        priority = f"MAX({table}.priority, excluded.priority)"
    return (
        "payload = excluded.payload, event_type = excluded.event_type, "
        f"reasons = {reasons}, priority = {priority}, updated_at = excluded.updated_at"
    )


def stream_changes_enqueue(*, changes: Sequence[StreamChange], now: datetime | None = None) -> int:
    """Insert or merge pending rows for these changes; returns how many products were queued."""
    now = now or timezone.now()
    unique = _dedupe(changes)
    rows = [
        (
            change.product_id,
            change.shop,
            change.event_type,
            json.dumps(change.payload, cls=DjangoJSONEncoder, separators=(",", ":")),
            json.dumps(list(dict.fromkeys(change.reasons))),
            int(change.priority),
            CatalogUpdateStream.Status.PENDING,
            0,
            now,
            "",
            now,
            now,
        )
        for change in unique
    ]
    with connection.cursor() as cursor:
        bulk_upsert(
            table=CatalogUpdateStream._meta.db_table,
            columns=_COLUMNS,
            rows=rows,
            conflict="(product_id, shop) WHERE status = 'pending'",
            update=_merge_sql(),
            cursor=cursor,
        )
    return len(unique)


def stream_rows_prune(*, before: datetime, batch: int = 5000) -> int:
    """Delete rows sent to the shop before ``before`` (failed rows stay until handled)."""
    done = CatalogUpdateStream.objects.filter(status=CatalogUpdateStream.Status.DONE, updated_at__lt=before)
    deleted = 0
    while ids := list(done.order_by("id").values_list("id", flat=True)[:batch]):
        deleted += CatalogUpdateStream.objects.filter(id__any_of=ids).delete()[0]
    return deleted
