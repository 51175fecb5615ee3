"""Procurement job kinds (thin: load, call a service, record)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from genesys.jobs.context import JobContext, JobOutcome, JobSkip
from genesys.jobs.maintenance import maintenance_step
from genesys.jobs.registry import JobParam, JobParamsError, KindDefaults, job_kind
from genesys.models import JobKind, JobRun
from procurement.models import FeedRun, Supplier
from procurement.progress import ingest_measure
from procurement.selectors import feed_expected_rows
from procurement.services.ingest import IngestProgress, supplier_ingest
from procurement.services.runs import (
    IngestAlreadyRunning,
    feed_runs_abandon,
    feed_runs_orphaned_abandon,
    feed_runs_prune,
)
from procurement.services.scheduling import (
    supplier_ingest_after,
    supplier_ingest_key,
    supplier_ingests_schedule,
)

# The nightly maintenance job prunes old feed runs (RETENTION_DAYS; each feed's baseline stays).
maintenance_step("feed_runs_deleted")(feed_runs_prune)


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


def _ingest_params_check(params: dict[str, Any]) -> None:
    if not Supplier.objects.filter(pk=params["supplier_id"]).exists():
        raise JobParamsError("supplier_id", _("there is no supplier %(id)s") % {"id": params["supplier_id"]})


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
    params={"supplier_id": JobParam(int, required=True)},
    params_check=_ingest_params_check,
)  # fmt: skip
def supplier_ingest_job(ctx: JobContext) -> JobOutcome:
    expected: dict[int, int | None] = {}

    def progress(p: IngestProgress) -> None:
        counts = _("%(read)s rows read, %(valid)s valid, %(rejected)s rejected") % {
            "read": f"{p.rows_read:,}",
            "valid": f"{p.rows_valid:,}",
            "rejected": f"{p.rows_rejected:,}",
        }
        message = _("%(feed)s: %(counts)s (%(phase)s)") % {"feed": p.feed, "counts": counts, "phase": p.phase}
        if p.feed_id not in expected and p.phase == "rows" and not p.body_bytes:
            expected[p.feed_id] = feed_expected_rows(feed_id=p.feed_id)
        measure = ingest_measure(
            phase=p.phase, rows_read=p.rows_read, rows_done=p.rows_valid + p.rows_rejected,
                body_bytes=p.body_bytes,
            body_bytes_read=p.body_bytes_read, expected_rows=expected.get(p.feed_id),
        )  # fmt: skip
        if measure is None:
            ctx.progress(
                message,
                done=p.rows_read,
                total=None,
                unit="rows",
                scope=str(p.feed_id),
            )
            return
        ctx.progress(
            message,
            done=measure.done, total=measure.total, unit=measure.unit, scope=str(p.feed_id),
        )  # fmt: skip

    try:
        runs = supplier_ingest(
            supplier_id=ctx.params["supplier_id"],
            triggered_by=ctx.run.triggered_by or "job",
            job_run_id=ctx.run.pk,
            on_progress=progress,
            should_stop=ctx.stop_requested,
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
    # A feed stopped half-way (the kill switch; a cancelled run ends cancelled in the runner).
    status = (
        JobRun.Status.WARNING
        if any(f["status"] in {FeedRun.Status.WARNING, FeedRun.Status.CANCELLED} for f in feeds)
        else JobRun.Status.SUCCESS
    )
    return JobOutcome(summary={"feeds": feeds}, status=status)
