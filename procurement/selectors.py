"""Reads of procurement data."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from procurement.models import FeedRun, Supplier, SupplierFeed


def supplier_find(*, reference: str) -> Supplier:
    """A supplier by id or by name (case-insensitive), for commands and imports."""
    query = Q(name__iexact=reference.strip())
    if reference.strip().isdigit():
        query |= Q(pk=int(reference))
    return Supplier.objects.get(query)


def feed_find(*, reference: str, supplier: Supplier | None = None) -> SupplierFeed:
    """A feed by id, by name within a supplier, or as "Supplier/Feed"."""
    feeds = SupplierFeed.objects.select_related("supplier")
    text = reference.strip()
    if text.isdigit():
        return feeds.get(pk=int(text))
    if supplier is None and "/" in text:
        supplier_name, _, feed_name = text.partition("/")
        return feeds.get(supplier__name__iexact=supplier_name.strip(), name__iexact=feed_name.strip())
    if supplier is not None:
        return feeds.get(supplier=supplier, name__iexact=text)
    return feeds.get(name__iexact=text)


def feed_expected_rows(*, feed_id: int) -> int | None:
    """Rows read by the feed's last complete run (not a dry run): an ingest's expected size."""
    return (
        FeedRun.objects.filter(
            feed_id=feed_id, dry_run=False, status__in=[FeedRun.Status.SUCCESS, FeedRun.Status.WARNING]
        )
        .order_by("-started_at", "-id")
        .values_list("rows_read", flat=True)
        .first()
    ) or None


def feed_runs_filter(*, supplier_id: int | None = None, status: str | None = None) -> QuerySet[FeedRun]:
    """Feed runs, newest first, without their big JSON columns (rejected rows, warnings)."""
    runs = FeedRun.objects.select_related("feed__supplier").defer("rejected_rows", "warnings")
    if supplier_id is not None:
        runs = runs.filter(feed__supplier_id=supplier_id)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-id")


def feed_run_get(*, run_id: int) -> FeedRun | None:
    """One feed run with everything it recorded (counters, warnings, rejected rows)."""
    return FeedRun.objects.select_related("feed__supplier").filter(pk=run_id).first()
