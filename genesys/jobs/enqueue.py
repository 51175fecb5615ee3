"""Creating jobs: a ledger row first (one active per key), then the RQ job after commit."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import django_rq
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Dependency, Job
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

from genesys.jobs.ledger import kind_config_get, run_finish, run_log
from genesys.jobs.registry import job_spec
from genesys.models import JobRun

logger = logging.getLogger(__name__)

RUNNER = "genesys.jobs.runner.job_execute"


def job_enqueue(
    *,
    kind: str,
    params: dict[str, Any] | None = None,
    at: datetime | None = None,
    triggered_by: str = "",
    attempt: int = 1,
    key: str | None = None,
    priority: str | None = None,
    after_run_id: int | None = None,
) -> JobRun | None:
    """Queue a job of ``kind`` (at ``at``, or now); None if one with the same key is active.

    The database decides: a partial unique index allows one queued-or-running run per key, so
    concurrent schedulers can never create two. The RQ job is created after the transaction
    commits, with the run's id as its only argument. ``priority`` (default: the kind's own)
    chooses the queue (``queue_name``); ``after_run_id`` holds the run until that one has ended.
    """
    spec = job_spec(kind)
    params = dict(params or {})
    now = timezone.now()
    try:
        with transaction.atomic():
            run = JobRun.objects.create(
                kind=kind,
                key=key or spec.key(params),
                params=params,
                status=JobRun.Status.QUEUED,
                scheduled_for=at if at and at > now else None,
                priority=priority or spec.priority,
                after_run_id=after_run_id,
                attempt=attempt,
                triggered_by=triggered_by[:64],
                rq_job_id=f"genesys-{uuid.uuid4().hex}",
                created_at=now,
            )
    except IntegrityError:
        return None
    transaction.on_commit(partial(rq_submit, run_id=run.pk))
    return run


def queue_name(*, kind: str, priority: str) -> str:
    """The RQ queue of a run: "urgent", "high" and "low" are queues of their own, listened to
    first, second and last by every worker; a normal run goes to its kind's queue."""
    if priority == JobRun.Priority.NORMAL:
        return job_spec(kind).queue
    return str(priority)


def rq_submit(*, run_id: int) -> bool:
    """Put a queued run on its RQ queue (at its time); False if Redis refused (the watchdog retries)."""
    run = JobRun.objects.filter(pk=run_id, status=JobRun.Status.QUEUED).first()
    if run is None:
        return False
    config = kind_config_get(kind=run.kind)
    name = queue_name(kind=run.kind, priority=run.priority)
    queue = django_rq.get_queue(name, commit_mode="auto")
    options = {
        "job_id": run.rq_job_id,
        "job_timeout": config.timeout_seconds,
        "result_ttl": settings.RQ_RESULT_TTL,
        "failure_ttl": settings.RQ_FAILURE_TTL,
        "description": f"{run.key} (run {run.pk}, attempt {run.attempt})",
    }
    try:
        if run.scheduled_for and run.scheduled_for > timezone.now():
            queue.enqueue_at(run.scheduled_for, RUNNER, run.pk, **options)
        else:
            queue.enqueue(RUNNER, run.pk, depends_on=_rq_dependency(run), **options)
    except Exception:
        logger.exception("Could not put run %s on queue %s; the watchdog will retry", run.pk, name)
        return False
    return True


def _rq_dependency(run: JobRun) -> Dependency | None:
    """RQ holds the job (deferred) until the run it follows has ended, however it ended; the
    runner checks the ledger again, so a run that was re-queued under a new RQ id still waits."""
    if run.after_run_id is None:
        return None
    after = JobRun.objects.filter(pk=run.after_run_id, status__in=JobRun.ACTIVE).values("rq_job_id").first()
    if after is None:
        return None
    return Dependency(jobs=[after["rq_job_id"]], allow_failure=True)


def job_cancel(*, key: str, reason: str) -> int:
    """Cancel the queued (not running) job of ``key``: the run is skipped, its RQ job removed."""
    cancelled = 0
    for run in JobRun.objects.filter(key=key, status=JobRun.Status.QUEUED):
        if run_finish(
            run=run,
            status=JobRun.Status.SKIPPED,
            summary={"cancelled": reason},
            from_status=JobRun.Status.QUEUED,
        ):
            cancelled += 1
            transaction.on_commit(partial(_rq_delete, job_id=run.rq_job_id))
    return cancelled


def rq_cancel(*, job_id: str) -> None:
    """Take a cancelled run's job out of RQ: its queue, the scheduled registry when it was
    delayed, the deferred one when it waited for another; the jobs waiting for it are released."""
    connection = django_rq.get_connection("default")
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return
    except Exception:
        logger.exception("Could not fetch RQ job %s to cancel it", job_id)
        return
    try:
        ScheduledJobRegistry(job.origin, connection=connection, serializer=JSONSerializer).remove(job)
        job.cancel(enqueue_dependents=True)
    except InvalidJobOperation:
        pass  # cancelled already
    except Exception:
        logger.exception("Could not cancel RQ job %s", job_id)


def _rq_delete(*, job_id: str) -> None:
    try:
        Job.fetch(job_id, connection=django_rq.get_connection("default")).delete()
    except NoSuchJobError:
        pass
    except Exception:
        logger.exception("Could not delete RQ job %s", job_id)


def job_requeue_later(*, run: JobRun, seconds: int, note: str) -> None:
    """Put a still-queued run back on its queue in ``seconds`` (e.g. max concurrency reached)."""
    at = timezone.now() + timedelta(seconds=seconds)
    # A new RQ id: the current one belongs to the RQ job that is finishing right now.
    JobRun.objects.filter(pk=run.pk, status=JobRun.Status.QUEUED).update(
        scheduled_for=at, rq_job_id=f"genesys-{uuid.uuid4().hex}"
    )
    run_log(run_id=run.pk, stage="page", message=note)
    rq_submit(run_id=run.pk)
