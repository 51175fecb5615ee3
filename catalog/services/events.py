"""Writing product events in bulk: the ingest and the flag changes write thousands at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from catalog.models import ProductSupplierEvent
from genesys.db import bulk_insert


class EventRow(NamedTuple):
    """One ``ProductSupplierEvent`` to insert (the fields are the table's columns)."""

    product_id: int
    reason: str
    created_at: datetime
    supplier_id: int | None = None
    supplier_item_id: int | None = None
    old_price: Decimal | None = None
    new_price: Decimal | None = None
    old_stock: int | None = None
    new_stock: int | None = None
    run_id: int | None = None
    note: str = ""


_TYPES = ("bigint", "text", "timestamptz", "bigint", "bigint", "numeric", "numeric", "integer", "integer")
_COLUMNS = list(zip(EventRow._fields, (*_TYPES, "bigint", "text"), strict=True))


def product_events_insert(*, events: Sequence[EventRow]) -> int:
    """Insert events in a few statements (COPY on PostgreSQL); returns how many."""
    with connection.cursor() as cursor:
        bulk_insert(table=ProductSupplierEvent._meta.db_table, columns=_COLUMNS, rows=events, cursor=cursor)
    return len(events)
