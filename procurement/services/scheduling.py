"""Per-supplier ingest schedule: one pending or running ingest job per enabled supplier.

The next run of a supplier starts ``ingest_interval_minutes`` after its previous run finished
(success or failure); ``Supplier.ingest_next_run_at`` shows when, in the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from genesys.jobs.enqueue import job_cancel, job_enqueue
from genesys.models import JobKind, JobRun
from procurement.models import Supplier


def supplier_ingest_key(supplier_id: int) -> str:
    return f"supplier_ingest:{supplier_id}"


@dataclass
class ScheduleSummary:
    created: list[int] = field(default_factory=list)  # supplier ids that got a job
    existing: list[int] = field(default_factory=list)  # supplier ids that already had one


def supplier_next_ingest_at(*, supplier: Supplier, now: datetime) -> datetime:
    """Previous run's end + interval; now if it never ran or that moment has passed.

    Any ended run counts, skipped ones too: while the kill switch is on, ingests keep their
    cadence (skipped every interval) instead of being retried in a tight loop.
    """
    last_end = (
        JobRun.objects.filter(key=supplier_ingest_key(supplier.pk), finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    if last_end is None:
        return now
    return max(now, last_end + timedelta(minutes=supplier.ingest_interval_minutes))


def supplier_ingests_schedule(
    *, supplier_ids: list[int] | None = None, now: datetime | None = None
) -> ScheduleSummary:
    """Create the missing ingest jobs; never a second one for a supplier (the database refuses)."""
    now = now or timezone.now()
    summary = ScheduleSummary()
    suppliers = Supplier.objects.filter(ingest_enabled=True, is_active=True)
    if supplier_ids is not None:
        suppliers = suppliers.filter(pk__in=supplier_ids)
    active = dict(
        JobRun.objects.filter(kind=JobKind.SUPPLIER_INGEST, status__in=JobRun.ACTIVE).values_list(
            "key", "scheduled_for"
        )
    )
    for supplier in suppliers:
        key = supplier_ingest_key(supplier.pk)
        if key in active:
            summary.existing.append(supplier.pk)
            next_at = active[key] or now
        else:
            next_at = supplier_next_ingest_at(supplier=supplier, now=now)
            run = job_enqueue(
                kind=JobKind.SUPPLIER_INGEST,
                params={"supplier_id": supplier.pk},
                at=next_at,
                triggered_by="schedule",
            )
            (summary.created if run else summary.existing).append(supplier.pk)
        Supplier.objects.filter(pk=supplier.pk).update(ingest_next_run_at=next_at)
    return summary


@transaction.atomic
def supplier_ingest_unschedule(*, supplier_id: int) -> int:
    """Cancel the supplier's pending ingest (a running one finishes) and clear its next run."""
    cancelled = job_cancel(key=supplier_ingest_key(supplier_id), reason="scheduled ingest disabled")
    Supplier.objects.filter(pk=supplier_id).update(ingest_next_run_at=None)
    return cancelled


def supplier_ingest_after(run: JobRun) -> None:
    """A supplier's ingest is over (for good): schedule the next one at finish + interval."""
    supplier_id = (run.params or {}).get("supplier_id")
    if supplier_id is not None:
        supplier_ingests_schedule(supplier_ids=[supplier_id])


def supplier_ingest_now(*, supplier_id: int, triggered_by: str) -> JobRun | None:
    """Start a supplier's ingest now: a pending (later) one is replaced; None if one is running."""
    key = supplier_ingest_key(supplier_id)
    if JobRun.objects.filter(key=key, status=JobRun.Status.RUNNING).exists():
        return None
    job_cancel(key=key, reason=f"replaced by an ingest started now ({triggered_by})")
    run = job_enqueue(
        kind=JobKind.SUPPLIER_INGEST,
        params={"supplier_id": supplier_id},
        triggered_by=triggered_by,
        priority=JobRun.Priority.URGENT,  # an operator's "Run now": before scheduled work
    )
    if run is not None:
        Supplier.objects.filter(pk=supplier_id).update(ingest_next_run_at=timezone.now())
    return run
