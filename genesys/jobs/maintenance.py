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
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from rq.registry import clean_registries

from genesys.jobs.context import JobContext
from genesys.jobs.registry import KindDefaults, job_kind, job_specs
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobKind, JobRun, JobRunLog

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


def job_runs_prune(*, before: datetime, keep_per_key: int, batch: int) -> int:
    """Delete ended runs (and their log lines) older than ``before``, keeping the last
    ``keep_per_key`` runs of each key whatever their age; ``batch`` rows per statement.

    The history of a supplier that ingests once a month stays readable while one that syncs
    every ten seconds does not grow without end. Kinds whose keys name one run each (operator
    recomputes) keep their last runs per kind instead. Candidates are walked in id order; a run
    among the newest of its key (a window over that key's runs, computed once per key) is kept;
    log lines go first, ``batch`` at a time, then the runs: no statement touches more than
    ``batch`` rows of a table, so the ledger stays writable while it runs.
    """
    per_kind = {kind for kind, spec in job_specs().items() if spec.retention_per_kind}
    thresholds: dict[tuple[str, str], int] = {}
    ended = JobRun.objects.filter(finished_at__lt=before).exclude(status__in=JobRun.ACTIVE)
    deleted, cursor = 0, 0
    while rows := list(ended.filter(id__gt=cursor).order_by("id").values_list("id", "kind", "key")[:batch]):
        cursor = rows[-1][0]
        groups = [("kind", kind) if kind in per_kind else ("key", key) for _id, kind, key in rows]
        _thresholds_load(thresholds=thresholds, groups=set(groups), keep=keep_per_key)
        doomed = [
            run_id
            for (run_id, _kind, _key), group in zip(rows, groups, strict=True)
            if run_id < thresholds.get(group, 0)
        ]
        if doomed:
            deleted += _runs_delete(run_ids=doomed, batch=batch)
    return deleted


def _thresholds_load(
    *, thresholds: dict[tuple[str, str], int], groups: set[tuple[str, str]], keep: int
) -> None:
    """For each group not seen yet: the id of its ``keep``-th newest run (0 when it has fewer:
    nothing of it is deleted); runs below it may go. One windowed query per kind of group."""
    missing = groups - set(thresholds)
    for field in ("key", "kind"):
        values = sorted(value for kind, value in missing if kind == field)
        if not values:
            continue
        for value in values:
            thresholds[(field, value)] = 0
        if keep == 0:
            for value in values:
                thresholds[(field, value)] = 2**62
            continue
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            ranked = (
                JobRun.objects.filter(**{f"{field}__in": chunk})
                .annotate(rank=Window(RowNumber(), partition_by=[F(field)], order_by=F("id").desc()))
                .filter(rank=keep)
                .values_list(field, "id")
            )
            for value, run_id in ranked:
                thresholds[(field, value)] = run_id


def _runs_delete(*, run_ids: list[int], batch: int) -> int:
    """Log lines of ``run_ids`` ``batch`` at a time, then the runs themselves."""
    lines = JobRunLog.objects.filter(run_id__any_of=run_ids)
    while ids := list(lines.order_by("id").values_list("id", flat=True)[:batch]):
        JobRunLog.objects.filter(id__any_of=ids).delete()
    return JobRun.objects.filter(id__any_of=run_ids).delete()[1].get("genesys.JobRun", 0)


@job_kind(
    JobKind.MAINTENANCE,
    queue="maintenance",
    priority="low",  # after everything else a worker has to do
    defaults=KindDefaults(retry_attempts=1, retry_backoff_seconds=(600,), timeout_seconds=1800,
                          stale_after_seconds=3600, schedule="30 2 * * *"),
)  # fmt: skip
def maintenance(ctx: JobContext) -> dict:
    before = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    summary: dict = {"retention_days": settings.RETENTION_DAYS}
    for name, step in _STEPS.items():
        summary[name] = step(before=before)
    summary["job_runs_deleted"] = job_runs_prune(
        before=before, keep_per_key=settings.JOBS_KEEP_RUNS_PER_KEY, batch=settings.JOBS_PRUNE_BATCH
    )
    ctx.progress(
        _("pruned (over %(days)s days old): %(counts)s")
        % {
            "days": summary["retention_days"],
            "counts": ", ".join(
                f"{name} {count}" for name, count in summary.items() if name != "retention_days"
            ),
        }
    )
    for name in settings.GENESYS_QUEUES:
        clean_registries(django_rq.get_queue(name))
    watchdog = jobs_watchdog()
    summary["abandoned"] = len(watchdog.abandoned)
    summary["resubmitted"] = len(watchdog.resubmitted)
    return summary
