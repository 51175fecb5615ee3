"""Procurement job kinds (thin: load, call a service, record)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from genesys.jobs.context import JobContext, JobOutcome, JobSkip
from genesys.jobs.registry import KindDefaults, job_kind
from genesys.models import JobKind, JobRun
from procurement.models import FeedRun
from procurement.services.ingest import IngestProgress, supplier_ingest
from procurement.services.runs import IngestAlreadyRunning, feed_runs_abandon, feed_runs_orphaned_abandon
from procurement.services.scheduling import (
    supplier_ingest_after,
    supplier_ingest_key,
    supplier_ingests_schedule,
)


class IngestFailed(Exception):
    """At least one feed of the supplier failed; the job is retried with the kind's backoff."""


def _reconcile() -> None:
    """Every tick: the missing per-supplier jobs, and feed runs whose process died."""
    supplier_ingests_schedule()
    feed_runs_orphaned_abandon()


def _feed_runs_abandon(run: JobRun) -> None:
    feed_runs_abandon(
        runs=FeedRun.objects.filter(job_run=run, status=FeedRun.Status.RUNNING), reason=run.error
    )


@job_kind(
    JobKind.SUPPLIER_INGEST,
    queue="ingest",
    key=lambda params: supplier_ingest_key(params["supplier_id"]),
    defaults=KindDefaults(
        max_concurrency=2, retry_attempts=3, retry_backoff_seconds=(60, 300, 900),
        timeout_seconds=3 * 3600, stale_after_seconds=4 * 3600,
    ),
    after=supplier_ingest_after,
    abandoned=_feed_runs_abandon,
    reconcile=_reconcile,
    params_from_key=lambda key: {"supplier_id": int(key.rsplit(":", 1)[-1])},
)  # fmt: skip
def supplier_ingest_job(ctx: JobContext) -> JobOutcome:
    def progress(p: IngestProgress) -> None:
        ctx.progress(
            _("%(feed)s: %(read)s rows read, %(valid)s valid, %(rejected)s rejected (%(phase)s)")
            % {"feed": p.feed, "read": f"{p.rows_read:,}", "valid": f"{p.rows_valid:,}",
               "rejected": f"{p.rows_rejected:,}", "phase": p.phase}
        )  # fmt: skip

    try:
        runs = supplier_ingest(
            supplier_id=ctx.params["supplier_id"],
            triggered_by=ctx.run.triggered_by or "job",
            job_run_id=ctx.run.pk,
            on_progress=progress,
        )
    except IngestAlreadyRunning as exc:
        raise JobSkip(str(exc)) from None
    feeds: list[dict[str, Any]] = []
    for run in runs:
        feeds.append(
            {
                "feed": str(run.feed), "feed_run": run.pk, "status": run.status, "rows_valid": run.rows_valid,
                "rows_rejected": run.rows_rejected, "offers_changed": run.offers_changed,
                "offers_created": run.offers_created, "offers_zeroed": run.offers_zeroed,
                "stream_rows": run.stream_rows, "error": run.error,
            }
        )  # fmt: skip
        ctx.log(
            _("%(feed)s: %(status)s, %(valid)s valid rows, %(updates)s shop updates")
            % {"feed": run.feed, "status": run.get_status_display(), "valid": f"{run.rows_valid:,}",
               "updates": f"{run.stream_rows:,}"}
        )  # fmt: skip
    failed = [f for f in feeds if f["status"] == FeedRun.Status.FAILED]
    if failed:
        raise IngestFailed("; ".join(f"{f['feed']}: {f['error']}" for f in failed))
    status = (
        JobRun.Status.WARNING
        if any(f["status"] == FeedRun.Status.WARNING for f in feeds)
        else JobRun.Status.SUCCESS
    )
    return JobOutcome(summary={"feeds": feeds}, status=status)
