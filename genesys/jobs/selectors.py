"""Reads of the job ledger and the RQ queues for commands, the admin, the API and /healthz."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import django_rq
from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from rq.queue import Queue
from rq.registry import DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker, Worker

from genesys.jobs.ledger import kind_config_get, workers_enabled
from genesys.jobs.registry import job_specs
from genesys.models import JobRun, JobRunLog

LOG_PAGE_MAX = 1000


@dataclass(frozen=True)
class KindStatus:
    kind: str
    enabled: bool
    running: int
    queued: int
    last_success: datetime | None
    last_failure: datetime | None
    next_run: datetime | None
    schedule: str


def kinds_status() -> list[KindStatus]:
    """One line per job kind: the table of ``worker_status``."""
    stats: dict[str, Mapping[str, Any]] = {
        row["kind"]: row
        for row in JobRun.objects.values("kind").annotate(
            running=Count("id", filter=Q(status=JobRun.Status.RUNNING)),
            queued=Count("id", filter=Q(status=JobRun.Status.QUEUED)),
            last_success=Max(
                "finished_at", filter=Q(status__in=[JobRun.Status.SUCCESS, JobRun.Status.WARNING])
            ),
            last_failure=Max(
                "finished_at", filter=Q(status__in=[JobRun.Status.FAILED, JobRun.Status.ABANDONED])
            ),
        )
    }
    next_runs = dict(
        JobRun.objects.filter(status=JobRun.Status.QUEUED)
        .values("kind")
        .annotate(next=Min("scheduled_for"))
        .values_list("kind", "next")
    )
    lines = []
    for kind in sorted(job_specs()):
        config = kind_config_get(kind=kind)
        row: Mapping[str, Any] = stats.get(kind, {})
        lines.append(
            KindStatus(
                kind=kind,
                enabled=config.enabled,
                running=row.get("running", 0),
                queued=row.get("queued", 0),
                last_success=row.get("last_success"),
                last_failure=row.get("last_failure"),
                next_run=next_runs.get(kind),
                schedule=config.schedule,
            )
        )
    return lines


def workers_alive() -> list[BaseWorker]:
    return list(Worker.all(connection=django_rq.get_connection("default")))


def run_log_page(*, run_id: int, after: int = 0, limit: int = 200) -> list[JobRunLog]:
    """The run's log lines after line id ``after``, oldest first, at most ``limit`` (≤ 1000):
    a client follows a run by passing the last id it has seen."""
    limit = max(1, min(int(limit), LOG_PAGE_MAX))
    return list(JobRunLog.objects.filter(run_id=run_id, id__gt=max(0, int(after))).order_by("id")[:limit])


def run_log_tail(*, run_id: int, lines: int = 20) -> list[JobRunLog]:
    """The run's last ``lines`` log lines, oldest first (a run's page shows where it is now)."""
    newest = JobRunLog.objects.filter(run_id=run_id).order_by("-id")[: max(1, min(int(lines), LOG_PAGE_MAX))]
    return list(reversed(newest))


def runs_filter(
    *,
    kind: str | None = None,
    status: str | None = None,
    key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[JobRun]:
    """Runs by kind, status, exact key and creation time (``since`` included, ``until`` not),
    newest first; the key and (kind, status) filters use the ledger's indexes."""
    runs = JobRun.objects.all()
    if kind:
        runs = runs.filter(kind=kind)
    if status:
        runs = runs.filter(status=status)
    if key:
        runs = runs.filter(key=key)
    if since:
        runs = runs.filter(created_at__gte=since)
    if until:
        runs = runs.filter(created_at__lt=until)
    return runs.order_by("-id")


def run_progress(*, run: JobRun) -> dict[str, Any]:
    """Work done so far: ``done`` of ``total`` ``unit`` (the total only where known) and the
    percentage; an ended run says 100 % when it succeeded. Jobs report it through
    ``JobContext.progress(..., done=, total=)``."""
    progress = dict(run.progress or {})
    done, total = progress.get("done"), progress.get("total")
    percent = None
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        percent = round(min(100.0, 100.0 * done / total), 1)
    if run.status in {JobRun.Status.SUCCESS, JobRun.Status.WARNING}:
        percent = 100.0
    return {
        "done": done,
        "total": total,
        "unit": progress.get("unit", ""),
        "percent": percent,
        "message": progress.get("message", ""),
    }


def queues_stats() -> dict[str, Any]:
    """What the queues and the ledger hold now: per RQ queue its depth, started, deferred,
    scheduled and failed jobs, the age of its oldest waiting job and the workers listening; per
    kind its running and queued runs and its last success and failure; and the kill switch."""
    connection = django_rq.get_connection("default")
    workers = Worker.all(connection=connection)
    now = time.time()
    queues = []
    for name in (*settings.GENESYS_QUEUES, "default"):
        queue = Queue(name, connection=connection, serializer=JSONSerializer)
        queues.append(
            {
                "name": name,
                "depth": queue.count,
                "started": StartedJobRegistry(queue=queue).count,
                "deferred": DeferredJobRegistry(queue=queue).count,
                "scheduled": ScheduledJobRegistry(queue=queue).count,
                "failed": FailedJobRegistry(queue=queue).count,
                "oldest_job_age_seconds": _oldest_age(queue=queue, now=now),
                "workers": sorted(w.name for w in workers if name in w.queue_names()),
            }
        )
    kinds = [
        {
            "kind": line.kind,
            "enabled": line.enabled,
            "running": line.running,
            "queued": line.queued,
            "last_success": line.last_success,
            "last_failure": line.last_failure,
            "next_run": line.next_run,
        }
        for line in kinds_status()
    ]
    return {
        "queues": queues,
        "kinds": kinds,
        "workers": len(workers),
        "kill_switch": not workers_enabled(),
    }


def _oldest_age(*, queue: Queue, now: float) -> float | None:
    """Seconds since the job at the head of the queue was enqueued (None when it is empty)."""
    job_ids = queue.get_job_ids(0, 1)
    if not job_ids:
        return None
    job = queue.fetch_job(job_ids[0])
    if job is None or job.enqueued_at is None:
        return None
    enqueued = job.enqueued_at.replace(tzinfo=UTC) if job.enqueued_at.tzinfo is None else job.enqueued_at
    return round(max(0.0, now - enqueued.timestamp()), 1)
