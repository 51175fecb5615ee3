"""The RQ entry point of every Genesys job: ``job_execute(run_id)``.

One wrapper for all kinds:
1. skip runs that are no longer queued (a duplicate delivery);
2. the kill switch and the kind's ``enabled`` flag: skip, keeping the schedule;
3. the kind's max concurrency across all workers: wait and retry shortly if full;
4. mark the run running, beat a heartbeat, call the kind's function with a ``JobContext``;
5. record the summary or the error; on failure retry with the kind's backoff up to its attempts;
6. when the run is over for good, let the kind schedule what comes next.
A run that follows another (``after_run``) waits while that one is queued or running. A run an
operator cancelled while it ran ends ``cancelled`` when its job returns (it stopped at a safe
point, ``JobContext.stop_requested``) or raises: never retried, and what follows it carries on.
Stale database connections are closed before and after, as RQ forks and keeps workers alive.

A run's end must reach the ledger even through a database blip: it is retried with backoff for
up to ``JOBS_RECORD_RETRY_SECONDS``. A failure's error is first left in Redis
(``genesys.jobs.causes``), so that if the worker dies before the database is back, the watchdog
records the real cause; the job's own exception is always the one raised to RQ.
"""

from __future__ import annotations

import logging
import os
import random
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from genesys.db import connections_refresh, db_retry
from genesys.jobs.causes import run_cause_clear, run_cause_leave
from genesys.jobs.context import Heartbeat, JobCancelled, JobContext, JobOutcome, JobSkip
from genesys.jobs.enqueue import job_enqueue, job_requeue_later
from genesys.jobs.ledger import (
    backoff_seconds,
    error_text,
    kind_config_get,
    run_finish,
    run_log,
    workers_enabled,
)
from genesys.jobs.registry import job_spec
from genesys.jobs.stopping import run_stop_flag_clear
from genesys.models import JobKindConfig, JobRun

logger = logging.getLogger(__name__)


def job_execute(run_id: int, echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run one ledger entry; the return value is what RQ keeps as the job's result.

    ``echo`` also prints the run's log lines as they are written (``run_job --sync``).
    """
    connections_refresh()
    try:
        return _execute(run_id, echo)
    finally:
        connections_refresh()


def _execute(run_id: int, echo: Callable[[str], None] | None) -> dict[str, Any]:
    run = JobRun.objects.filter(pk=run_id).first()
    if run is None or run.status != JobRun.Status.QUEUED:
        return {"ignored": f"run {run_id} is not queued"}
    spec = job_spec(run.kind)
    config = kind_config_get(kind=run.kind)
    if not workers_enabled() or not config.enabled:
        reason = "kill switch is on" if not workers_enabled() else "kind disabled"
        if run_finish(
            run=run,
            status=JobRun.Status.SKIPPED,
            summary={"skipped": reason},
            from_status=JobRun.Status.QUEUED,
        ):
            _after(spec, run)
        return {"skipped": reason}
    if run.after_run_id and JobRun.objects.filter(pk=run.after_run_id, status__in=JobRun.ACTIVE).exists():
        job_requeue_later(
            run=run,
            seconds=settings.JOBS_CONCURRENCY_RETRY_SECONDS,
            note=f"waiting for run {run.after_run_id} to end",
        )
        return {"deferred": f"waiting for run {run.after_run_id}"}
    claimed = _claim(run=run, config=config)
    if claimed is None:
        return {"ignored": f"run {run_id} was claimed by another delivery"}
    if not claimed:
        job_requeue_later(
            run=run,
            seconds=max(1, round(settings.JOBS_CONCURRENCY_RETRY_SECONDS * random.uniform(0.5, 1.5))),
            note=f"{config.max_concurrency} job(s) of this kind already running; waiting",
        )
        return {"deferred": "max concurrency reached"}
    run_log(run_id=run.pk, stage="start", message=f"attempt {run.attempt} on {run.worker_name}")
    ctx = JobContext(run=run, config=config, echo=echo)
    try:
        try:
            with Heartbeat(run.pk):
                result = spec.func(ctx)
        except JobSkip as exc:
            if _record_end(run=run, status=JobRun.Status.SKIPPED, summary={"skipped": str(exc)}):
                _after(spec, run)
            return {"skipped": str(exc)}
        except Exception as exc:
            if isinstance(exc, JobCancelled) or _cancel_requested(ctx):
                return _cancelled(
                    spec=spec,
                    run=run,
                    summary={},
                    error="" if isinstance(exc, JobCancelled) else error_text(exc),
                )
            logger.exception("Job %s (run %s) failed", run.key, run.pk)
            _failed(spec=spec, run=run, config=config, error=error_text(exc))
            raise
        outcome = result if isinstance(result, JobOutcome) else JobOutcome(summary=dict(result or {}))
        if ctx.cancelled:
            return _cancelled(spec=spec, run=run, summary=outcome.summary, error="")
        if _record_end(run=run, status=outcome.status, summary=outcome.summary):
            _after(spec, run)
        return outcome.summary
    finally:
        if ctx.stop_reason == "cancelled" or run.cancel_requested_at:
            run_stop_flag_clear(run_id=run.pk)


def _cancel_requested(ctx: JobContext) -> bool:
    """Whether an operator asked this run to stop (the job may have failed while stopping)."""
    return ctx.cancelled or JobRun.objects.filter(pk=ctx.run.pk, cancel_requested_at__isnull=False).exists()


def _cancelled(*, spec: Any, run: JobRun, summary: dict[str, Any], error: str) -> dict[str, Any]:
    """End a run an operator cancelled: final (no retry), with what it finished in its summary."""
    by = JobRun.objects.filter(pk=run.pk).values_list("cancel_requested_by", flat=True).first() or ""
    summary = {**summary, "cancelled_by": by}
    if _record_end(run=run, status=JobRun.Status.CANCELLED, summary=summary, error=error):
        _after(spec, run)
    run_stop_flag_clear(run_id=run.pk)
    return summary


def _claim(*, run: JobRun, config: JobKindConfig) -> bool | None:
    """Mark the run running unless the kind is at its max concurrency (checked under a lock).

    None when the run is no longer queued: a second delivery of the same job lost the race.
    """
    from rq import get_current_job

    current = get_current_job()
    with transaction.atomic():
        # Serialises claims of one kind: the row lock on PostgreSQL, the write lock on SQLite.
        JobKindConfig.objects.select_for_update().filter(pk=config.pk).first()
        running = JobRun.objects.filter(kind=run.kind, status=JobRun.Status.RUNNING).count()
        if running >= config.max_concurrency:
            return False
        now = timezone.now()
        worker = (
            current.worker_name
            if current and current.worker_name
            else f"{socket.gethostname()}:{os.getpid()}"
        )
        claimed = JobRun.objects.filter(pk=run.pk, status=JobRun.Status.QUEUED).update(
            status=JobRun.Status.RUNNING, started_at=now, heartbeat_at=now, worker_name=worker[:255]
        )
    if claimed:
        run.status, run.started_at, run.heartbeat_at, run.worker_name = (
            JobRun.Status.RUNNING,
            now,
            now,
            worker,
        )
        return True
    return None


def _record_end(*, run: JobRun, status: str, summary: dict[str, Any] | None = None, error: str = "") -> bool:
    """``run_finish`` retried through database blips; False when someone closed the run first."""
    attempts = 0

    def attempt() -> bool:
        nonlocal attempts
        attempts += 1
        if run_finish(run=run, status=status, summary=summary, error=error):
            return True
        # A retry after a commit whose reply was lost finds its own write already there.
        if attempts > 1 and JobRun.objects.filter(pk=run.pk, status=status, error=error[:20000]).exists():
            run.status, run.summary, run.error = status, summary or {}, error
            return True
        return False

    return db_retry(
        attempt, what=f"recording the end of run {run.pk}", seconds=settings.JOBS_RECORD_RETRY_SECONDS
    )


def _failed(*, spec: Any, run: JobRun, config: JobKindConfig, error: str) -> None:
    """Record a failure and its retry; the error waits in Redis until the database has it.

    Database errors that outlast the retries are logged, never raised instead of the job's own
    error (the caller raises that next).
    """
    run_cause_leave(run_id=run.pk, error=error)
    try:
        recorded = _record_end(run=run, status=JobRun.Status.FAILED, error=error)
    except (OperationalError, InterfaceError):
        logger.exception(
            "Could not record the failure of run %s; the watchdog will close it with the cause kept in Redis",
            run.pk,
        )
        return
    run_cause_clear(run_id=run.pk)
    if not recorded:
        return  # the watchdog closed it already and took care of what comes next
    try:
        db_retry(
            lambda: job_retry_or_after(spec=spec, run=run, config=config),
            what=f"scheduling what follows run {run.pk}",
            seconds=settings.JOBS_RECORD_RETRY_SECONDS,
        )
    except (OperationalError, InterfaceError):
        logger.exception(
            "Could not schedule what follows run %s: the tick recreates per-supplier and periodic jobs; "
            "any other retry is lost",
            run.pk,
        )


def job_retry_or_after(*, spec: Any, run: JobRun, config: JobKindConfig) -> JobRun | None:
    """After a failed or abandoned run: the next attempt with backoff, or the regular schedule.

    A cancelled run is final: never retried, only what comes next is scheduled."""
    if run.status != JobRun.Status.CANCELLED and run.attempt <= config.retry_attempts:
        delay = backoff_seconds(config=config, attempt=run.attempt)
        retry = job_enqueue(
            kind=run.kind,
            params=run.params,
            key=run.key,
            at=timezone.now() + timedelta(seconds=delay),
            triggered_by="retry",
            attempt=run.attempt + 1,
            priority=run.priority,
        )
        if retry is not None:
            run_log(
                run_id=run.pk, stage="error", message=f"retry {retry.attempt} in {delay} s (run {retry.pk})"
            )
        return retry
    _after(spec, run)
    return None


def run_after(*, run: JobRun) -> None:
    """What follows a run that ended outside a worker (cancelled while queued)."""
    _after(job_spec(run.kind), run)


def _after(spec: Any, run: JobRun) -> None:
    if spec.after is None:
        return
    try:
        spec.after(run)
    except Exception:
        logger.exception("Scheduling after run %s failed", run.pk)
