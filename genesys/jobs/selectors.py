"""Reads of the job ledger for commands, the admin and /healthz."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import django_rq
from django.db.models import Count, Max, Min, Q
from rq.worker import Worker

from genesys.jobs.ledger import kind_config_get
from genesys.jobs.registry import job_specs
from genesys.models import JobRun


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
    stats = {
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
        row = stats.get(kind, {})
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


def workers_alive() -> list[Worker]:
    return list(Worker.all(connection=django_rq.get_connection("default")))
