"""The daily ``maintenance`` job: retention, RQ registries, and a watchdog pass.

Each app adds its own retention step with ``@maintenance_step("<summary key>")`` (in its
``jobs.py``, which the ``genesys`` app imports at start-up), so this module names no app: a step
is ``func(*, before: datetime) -> int`` and returns how many rows it removed. The job runs the
steps in the order they were registered, then prunes its own ledger last (older steps may still
point at job runs).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import django_rq
from django.conf import settings
from django.utils import timezone
from rq.registry import clean_registries

from genesys.jobs.context import JobContext
from genesys.jobs.registry import KindDefaults, job_kind
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobKind, JobRun

PRUNE_BATCH = 5000

MaintenanceStep = Callable[..., int]
_STEPS: dict[str, MaintenanceStep] = {}


def maintenance_step(name: str) -> Callable[[MaintenanceStep], MaintenanceStep]:
    """Register ``func(*, before)`` as a retention step; ``name`` is its key in the run's summary."""

    def register(func: MaintenanceStep) -> MaintenanceStep:
        _STEPS[name] = func
        return func

    return register


def maintenance_steps() -> dict[str, MaintenanceStep]:
    """The registered retention steps, in registration order (the ledger's own prune not included)."""
    return dict(_STEPS)


def job_runs_prune(*, before: datetime) -> int:
    """Delete ended runs (and their log lines) older than ``before``, in batches."""
    ended = JobRun.objects.filter(finished_at__lt=before).exclude(status__in=JobRun.ACTIVE)
    deleted = 0
    while ids := list(ended.order_by("id").values_list("id", flat=True)[:PRUNE_BATCH]):
        deleted += JobRun.objects.filter(id__any_of=ids).delete()[1].get("genesys.JobRun", 0)
    return deleted


@job_kind(
    JobKind.MAINTENANCE,
    queue="maintenance",
    defaults=KindDefaults(retry_attempts=1, retry_backoff_seconds=(600,), timeout_seconds=1800,
                          stale_after_seconds=3600, schedule="30 2 * * *"),
)  # fmt: skip
def maintenance(ctx: JobContext) -> dict:
    before = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    summary: dict = {"retention_days": settings.RETENTION_DAYS}
    for name, step in _STEPS.items():
        summary[name] = step(before=before)
    summary["job_runs_deleted"] = job_runs_prune(before=before)
    ctx.progress(f"pruned: {summary}")
    for name in settings.GENESYS_QUEUES:
        clean_registries(django_rq.get_queue(name))
    watchdog = jobs_watchdog()
    summary["abandoned"] = len(watchdog.abandoned)
    summary["resubmitted"] = len(watchdog.resubmitted)
    return summary
