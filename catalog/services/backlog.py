"""Samples of the shop update stream's backlog, for the home page's 24-hour chart.

The stream keeps no history of its own length, so the periodic tick's housekeeping (every
30 s, see catalog.jobs) records one sample every ``SAMPLE_EVERY_SECONDS`` and deletes samples
older than ``KEEP_HOURS``: a bounded table of a few hundred rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from catalog.models import CatalogUpdateStream, StreamBacklogSample

SAMPLE_EVERY_SECONDS = 300
KEEP_HOURS = 48


def stream_backlog_counts(*, now: datetime) -> dict[str, int]:
    """Pending, parked (failed) and processing rows and the oldest pending row's age: one query."""
    status = CatalogUpdateStream.Status
    row = CatalogUpdateStream.objects.filter(
        status__in=[status.PENDING, status.FAILED, status.PROCESSING]
    ).aggregate(
        pending=Count("id", filter=Q(status=status.PENDING)),
        failed=Count("id", filter=Q(status=status.FAILED)),
        processing=Count("id", filter=Q(status=status.PROCESSING)),
        oldest=Min("created_at", filter=Q(status=status.PENDING)),
    )
    oldest = row.pop("oldest")
    row["oldest_pending_age_s"] = int(max((now - oldest).total_seconds(), 0)) if oldest else 0
    return row


def stream_backlog_sample(*, now: datetime | None = None) -> StreamBacklogSample | None:
    """Record a sample unless one was taken in the last ``SAMPLE_EVERY_SECONDS``; prune old ones."""
    now = now or timezone.now()
    recent = StreamBacklogSample.objects.filter(
        taken_at__gt=now - timedelta(seconds=SAMPLE_EVERY_SECONDS)
    ).exists()
    if recent:
        return None
    sample = StreamBacklogSample.objects.create(taken_at=now, **stream_backlog_counts(now=now))
    StreamBacklogSample.objects.filter(taken_at__lt=now - timedelta(hours=KEEP_HOURS)).delete()
    return sample
