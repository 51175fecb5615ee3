"""Feed run records: start (one running per feed), progress, finish, and the rejected rows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from genesys.db import commit_without_waiting_for_disk
from genesys.jobs.ledger import kind_config_get
from genesys.models import JobKind, JobRun
from procurement.models import FeedRun, SupplierFeed

REJECTED_ROWS_KEPT = 1000
ROW_WARNINGS_KEPT = 200


class IngestAlreadyRunning(Exception):
    """Another ingest of the same feed is running; this one was refused before touching data."""

    def __init__(self, feed: SupplierFeed, running: FeedRun | None) -> None:
        if running is not None:
            message = _(
                "An ingest of %(feed)s is already running (run #%(run)s, started %(started)s). "
                "If its process died, the watchdog releases it after the supplier_ingest stale-after."
            ) % {
                "feed": feed,
                "run": running.pk,
                "started": timezone.localtime(running.started_at).strftime("%Y-%m-%d %H:%M:%S"),
            }
        else:
            message = _("An ingest of %(feed)s is already running.") % {"feed": feed}
        super().__init__(message)
        self.running = running


def feed_run_start(
    *, feed: SupplierFeed, triggered_by: str, dry_run: bool, force_unseen: bool, job_run_id: int | None
) -> FeedRun:
    """Create the run, or refuse: the database allows one *running* run per feed."""
    try:
        with transaction.atomic():
            return FeedRun.objects.create(
                feed=feed,
                status=FeedRun.Status.RUNNING,
                triggered_by=triggered_by[:64],
                dry_run=dry_run,
                force_unseen=force_unseen,
                job_run_id=job_run_id,
                progress=_("starting"),
            )
    except IntegrityError:
        running = FeedRun.objects.filter(feed=feed, status=FeedRun.Status.RUNNING).first()
        raise IngestAlreadyRunning(feed, running) from None


def feed_run_progress(*, run: FeedRun, fields: dict[str, Any]) -> None:
    """Publish counters while the run is live (outside the chunk transactions, so that no one
    reading the run waits on a chunk's locks).

    Its COMMIT does not wait for the disk: it follows each chunk's, which does not either, and
    a commit that waited would flush the chunk's WAL with its own (a few ms a chunk). Counters
    a server crash loses are rewritten by the next chunk, or the run is abandoned anyway."""
    with transaction.atomic():
        commit_without_waiting_for_disk()
        FeedRun.objects.filter(pk=run.pk).update(**fields)


def feed_run_baseline(*, feed: SupplierFeed, exclude_run_id: int) -> int | None:
    """Valid rows of the last run that read the whole feed and applied missing-offer handling."""
    return (
        FeedRun.objects.filter(
            feed=feed,
            dry_run=False,
            status__in=[FeedRun.Status.SUCCESS, FeedRun.Status.WARNING],
            unseen_handling__in=["applied", "forced"],
        )
        .exclude(pk=exclude_run_id)
        .order_by("-started_at", "-id")
        .values_list("rows_valid", flat=True)
        .first()
    )


def feed_runs_abandon(*, runs: Iterable[FeedRun], reason: str) -> int:
    """Close runs whose process died (the watchdog calls this); they no longer block the feed."""
    ids = [run.pk for run in runs]
    return FeedRun.objects.filter(pk__in=ids, status=FeedRun.Status.RUNNING).update(
        status=FeedRun.Status.ABANDONED, finished_at=timezone.now(), error=reason
    )


def rejected_rows_csv(*, run: FeedRun) -> str:
    """The run's rejected rows as CSV: line, reason, then the source fields seen."""
    rows = run.rejected_rows or []
    columns: list[str] = []
    for row in rows:
        for key in row.get("raw") or {}:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "reason", *columns])
    for row in rows:
        raw = row.get("raw") or {}
        writer.writerow(
            [row.get("line", ""), row.get("reason", ""), *(_csv_safe(raw.get(c, "")) for c in columns)]
        )
    return out.getvalue()


_PLAIN_NUMBER = re.compile(r"[+-]?[\d.,\s]+")


def _csv_safe(value: Any) -> str:
    """Neutralise spreadsheet formulas in supplier data (CSV injection); plain numbers such as
    "-1" stay as they are, since a negative price is often the very reason a row was rejected."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _PLAIN_NUMBER.fullmatch(text):
        return f"'{text}"
    return text


def feed_runs_prune(*, before: datetime, batch: int = 2000) -> int:
    """Delete ended feed runs older than ``before``, keeping each feed's latest successful run.

    The latest successful run is the baseline of the missing-offer safety guard; it is never
    pruned, however old.
    """
    from django.db.models import Max

    keep = set(
        FeedRun.objects.filter(status__in=[FeedRun.Status.SUCCESS, FeedRun.Status.WARNING], dry_run=False)
        .values("feed_id")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    old = FeedRun.objects.filter(finished_at__lt=before).exclude(status=FeedRun.Status.RUNNING)
    deleted = 0
    while ids := [i for i in old.order_by("id").values_list("id", flat=True)[:batch] if i not in keep]:
        deleted += FeedRun.objects.filter(id__in=ids).delete()[1].get("procurement.FeedRun", 0)
    return deleted


def feed_runs_orphaned_abandon(*, now: datetime | None = None) -> int:
    """Release feed runs whose process died without closing them, so their feed can run again.

    A run started by a job is closed with its job (the watchdog abandons dead jobs). A run with
    no job, or whose job is over, is abandoned once it is older than the supplier_ingest kind's
    stale-after: a command-line ingest killed half-way would otherwise block the feed for good.
    """
    now = now or timezone.now()
    stale_after = timedelta(seconds=kind_config_get(kind=JobKind.SUPPLIER_INGEST).stale_after_seconds)
    running = FeedRun.objects.filter(status=FeedRun.Status.RUNNING)
    job_over = running.filter(job_run__isnull=False).exclude(job_run__status__in=JobRun.ACTIVE)
    no_job = running.filter(job_run__isnull=True, started_at__lt=now - stale_after)
    released = feed_runs_abandon(runs=job_over, reason="its job ended without closing it")
    released += feed_runs_abandon(
        runs=no_job,
        reason=f"still running after {int(stale_after.total_seconds())} s without a job (process died?)",
    )
    return released
