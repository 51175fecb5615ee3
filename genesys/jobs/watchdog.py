"""Runs that died without closing: the watchdog abandons them and reschedules what comes next.

* A running run whose heartbeat stopped for ``JOBS_HEARTBEAT_GRACE_SECONDS`` lost its worker
  (SIGKILL, OOM, a lost machine). A run still beating after its kind's ``stale_after`` hangs.
  Both become ``abandoned``; the kind cleans up (its feed runs) and the next attempt or the
  regular schedule follows. On the RQ side the job is moved to the failed registry as
  ``AbandonedJobError`` (or a live worker is told to stop it), so RQ and the ledger agree.
  When the worker died after its job failed but before the database took the failure (a
  database outage), the error it left in Redis (``genesys.jobs.causes``) is the recorded cause.
* A queued run that is due since a while but has no RQ job (Redis lost it, or was down when the
  run was created) is put on its queue again; so is one whose RQ job says "scheduled" but is in
  no scheduled registry (lost half-way through being moved).
* Scheduled runs past their time that no scheduler moved are released and reported
  (``overdue``, and an error in the log): /healthz fails on them too.
* A run an operator cancelled is never retried: one whose worker vanished ends ``cancelled``
  instead of ``abandoned``; one still running ``JOBS_CANCEL_FORCE_SECONDS`` after the request
  (it never reached a safe point: a hung call) is stopped by force with RQ's stop-job command,
  which kills its work horse, and ends ``cancelled`` (the kind cleans up as for an abandoned run).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import django_rq
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rq.command import send_stop_job_command
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.worker import Worker

from genesys.jobs.causes import run_cause_clear, run_cause_get
from genesys.jobs.enqueue import rq_submit
from genesys.jobs.ledger import kind_config_get, run_finish
from genesys.jobs.registry import job_spec
from genesys.jobs.runner import job_retry_or_after
from genesys.jobs.scheduling import scheduled_runs_release
from genesys.jobs.stopping import run_stop_flag_clear
from genesys.models import JobRun

logger = logging.getLogger(__name__)

QUEUED_GRACE = timedelta(minutes=2)


@dataclass
class WatchdogResult:
    abandoned: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    rescheduled: list[int] = field(default_factory=list)
    resubmitted: list[int] = field(default_factory=list)
    overdue: list[int] = field(default_factory=list)


def jobs_watchdog(*, now: datetime | None = None) -> WatchdogResult:
    now = now or timezone.now()
    result = WatchdogResult()
    grace = timedelta(seconds=settings.JOBS_HEARTBEAT_GRACE_SECONDS)
    for run in JobRun.objects.filter(status=JobRun.Status.RUNNING).order_by("id"):
        config = kind_config_get(kind=run.kind)
        last_beat = run.heartbeat_at or run.started_at or run.created_at
        if last_beat < now - grace:
            worker = run.worker_name or "?"
            cause = run_cause_get(run_id=run.pk)
            if cause:
                reason = f"worker {worker} stopped before it could record this failure:\n{cause}"
            else:
                reason = f"worker {worker} vanished: no heartbeat since {last_beat:%Y-%m-%d %H:%M:%S} UTC"
        elif _cancel_overdue(run=run, now=now):
            reason = (
                f"did not stop within {settings.JOBS_CANCEL_FORCE_SECONDS} s of the cancel request "
                f"by {run.cancel_requested_by or '?'}; stopped by force"
            )
        elif run.started_at and run.started_at < now - timedelta(seconds=config.stale_after_seconds):
            reason = f"still running after {config.stale_after_seconds} s (stale_after)"
        else:
            continue
        status = JobRun.Status.CANCELLED if run.cancel_requested_at else JobRun.Status.ABANDONED
        if not run_finish(run=run, status=status, error=reason):
            continue
        (result.cancelled if status == JobRun.Status.CANCELLED else result.abandoned).append(run.pk)
        run_cause_clear(run_id=run.pk)
        run_stop_flag_clear(run_id=run.pk)
        _rq_abandon(run=run, reason=reason, now=now)
        spec = job_spec(run.kind)
        if spec.abandoned:
            spec.abandoned(run)
        retry = job_retry_or_after(spec=spec, run=run, config=config)
        if retry is not None:
            result.rescheduled.append(retry.pk)
    result.overdue = _scheduled_overdue(now=now)
    due = Q(scheduled_for__isnull=True) | Q(scheduled_for__lt=now - QUEUED_GRACE)
    for run in JobRun.objects.filter(due, status=JobRun.Status.QUEUED, created_at__lt=now - QUEUED_GRACE):
        if not _rq_job_pending(run):
            JobRun.objects.filter(pk=run.pk, status=JobRun.Status.QUEUED).update(scheduled_for=None)
            if rq_submit(run_id=run.pk):
                result.resubmitted.append(run.pk)
    return result


def _cancel_overdue(*, run: JobRun, now: datetime) -> bool:
    """Cancelled long enough ago that the job should have reached a safe point by now."""
    force = settings.JOBS_CANCEL_FORCE_SECONDS
    return bool(
        force and run.cancel_requested_at and run.cancel_requested_at < now - timedelta(seconds=force)
    )


def _scheduled_overdue(*, now: datetime) -> list[int]:
    """Release scheduled runs no scheduler moved; the ones this had to release are returned."""
    limit = now - timedelta(seconds=settings.JOBS_SCHEDULED_OVERDUE_SECONDS)
    late = set(
        JobRun.objects.filter(status=JobRun.Status.QUEUED, scheduled_for__lt=limit).values_list(
            "pk", flat=True
        )
    )
    if not late:
        return []
    overdue = sorted(late & set(scheduled_runs_release(now=now)))
    if overdue:
        logger.error(
            "%s scheduled run(s) more than %s s late were still waiting for a scheduler: %s "
            "(is every worker's scheduler dead?)",
            len(overdue),
            settings.JOBS_SCHEDULED_OVERDUE_SECONDS,
            overdue,
        )
    return overdue


def _rq_job_pending(run: JobRun) -> bool:
    connection = django_rq.get_connection("default")
    try:
        job = Job.fetch(run.rq_job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.SCHEDULED:
        registry = ScheduledJobRegistry(job.origin, connection=connection, serializer=JSONSerializer)
        return connection.zscore(registry.key, job.id) is not None
    return status in {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED}


def _rq_abandon(*, run: JobRun, reason: str, now: datetime) -> None:
    """Make RQ agree: stop the job on a live worker, or fail it as abandoned if the worker is gone."""
    connection = django_rq.get_connection("default")
    try:
        job = Job.fetch(run.rq_job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return
    if job.get_status(refresh=False) != JobStatus.STARTED:
        return
    worker = (
        Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=connection)
        if job.worker_name
        else None
    )
    grace = timedelta(seconds=settings.JOBS_HEARTBEAT_GRACE_SECONDS)
    if worker is not None and worker.last_heartbeat and worker.last_heartbeat > now - grace:
        send_stop_job_command(connection, job.id, serializer=JSONSerializer)  # a hung job on a live worker
        return
    registry = StartedJobRegistry(name=job.origin, connection=connection, serializer=JSONSerializer)
    members = [
        m
        for m in connection.zrange(registry.key, 0, -1)
        # bytes: RQ's connection decodes nothing
        if isinstance(m, bytes) and m.decode().startswith(f"{job.id}:")
    ]
    if members:
        # Expire the job's entries now and let RQ's own cleanup fail them with AbandonedJobError.
        connection.zadd(registry.key, {m: 0 for m in members}, xx=True)
        registry.cleanup(timestamp=1)
    logger.warning("Run %s abandoned: %s", run.pk, reason)
