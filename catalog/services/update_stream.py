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
from catalog.policies.shop_state import ShopState
from catalog.sql import dialect
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
    payload: ShopState | dict[str, Any]  # a dict: a payload read back from the stream as stored
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


def _payload_json(payload: ShopState | dict[str, Any]) -> dict[str, Any]:
    return payload.to_json() if isinstance(payload, ShopState) else payload


def stream_changes_enqueue(*, changes: Sequence[StreamChange], now: datetime | None = None) -> int:
    """Insert or merge pending rows for these changes; returns how many products were queued."""
    now = now or timezone.now()
    unique = _dedupe(changes)
    rows = [
        (
            change.product_id,
            change.shop,
            change.event_type,
            json.dumps(_payload_json(change.payload), cls=DjangoJSONEncoder, separators=(",", ":")),
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
            update=dialect().stream_merge_sql(),
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
