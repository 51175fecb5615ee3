"""Operator changes to suppliers and feeds: save, then re-elect, re-price and (re)schedule.

Suppliers and feeds are procurement's; what a change means for the catalog (landed costs to work
out again, offers to re-elect) goes through the catalog's own services, and what it means for the
ingest schedule through ``procurement.services.scheduling``.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from catalog.selectors import product_ids_offered_by_supplier
from catalog.services.changes import products_recompute_enqueue
from catalog.services.dirty import products_mark_dirty
from catalog.services.offers import Reason
from procurement.models import Supplier, SupplierFeed, SupplierItem
from procurement.services.scheduling import supplier_ingest_unschedule, supplier_ingests_schedule


def _supplier_ingest_reschedule(*, supplier: Supplier, is_new: bool, changed: set[str]) -> None:
    """The ingest flags and interval (re)schedule or cancel the supplier's ingest job."""
    if not (is_new or changed & {"ingest_enabled", "is_active", "ingest_interval_minutes"}):
        return
    if supplier.ingest_enabled and supplier.is_active:
        if "ingest_interval_minutes" in changed:
            supplier_ingest_unschedule(supplier_id=supplier.pk)  # re-created with the new interval
        transaction.on_commit(lambda: supplier_ingests_schedule(supplier_ids=[supplier.pk]))
    elif not is_new:
        supplier_ingest_unschedule(supplier_id=supplier.pk)


@transaction.atomic
def supplier_save(*, supplier: Supplier, changed_fields: Collection[str]) -> Supplier:
    """Save a supplier: margin and active flag re-elect and re-price its products; the ingest
    flags and interval (re)schedule or cancel its ingest job."""
    is_new = supplier.pk is None
    supplier.save()
    changed = set(changed_fields)
    _supplier_ingest_reschedule(supplier=supplier, is_new=is_new, changed=changed)
    if is_new:
        return supplier
    if changed & set(Supplier.LANDED_COST_FIELDS):
        # Every offer's landed cost moves: the catalog step recomputes them (durable marks).
        products_mark_dirty(product_ids=product_ids_offered_by_supplier(supplier_id=supplier.pk).iterator())
    if "is_active" in changed:
        reason = Reason.SUPPLIER_ENABLED if supplier.is_active else Reason.SUPPLIER_DISABLED
    elif "margin" in changed:
        reason = Reason.MARGIN_CHANGED
    else:
        return supplier
    products_recompute_enqueue(scope="supplier", scope_id=supplier.pk, reason=reason)
    return supplier


@transaction.atomic
def feed_save(*, feed: SupplierFeed, changed_fields: Collection[str]) -> SupplierFeed:
    """Save a feed; a new currency or VAT treatment moves the landed cost of all its offers."""
    is_new = feed.pk is None
    feed.save()
    if not is_new and {"currency", "prices_include_vat", "vat_rate"} & set(changed_fields):
        ids = SupplierItem.objects.filter(feed_id=feed.pk).values_list("product_id", flat=True).distinct()
        products_mark_dirty(product_ids=ids.iterator())
    return feed
