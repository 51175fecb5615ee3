"""The job ledger's writes and reads: configuration, kill switch, runs and their log lines."""

from __future__ import annotations

import traceback
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from genesys.jobs.registry import job_spec, job_specs
from genesys.models import JobKindConfig, JobRun, JobRunLog, KillSwitchChange, WorkerGlobalConfig

LOG_MESSAGE_MAX = 4000


def kind_config_get(*, kind: str) -> JobKindConfig:
    """The kind's configuration, created with the kind's defaults the first time it is asked for."""
    config = JobKindConfig.objects.filter(kind=kind).first()
    if config is not None:
        return config
    defaults = job_spec(kind).defaults
    config, _ = JobKindConfig.objects.get_or_create(
        kind=kind,
        defaults={
            "enabled": defaults.enabled,
            "max_concurrency": defaults.max_concurrency,
            "retry_attempts": defaults.retry_attempts,
            "retry_backoff_seconds": list(defaults.retry_backoff_seconds),
            "timeout_seconds": defaults.timeout_seconds,
            "stale_after_seconds": defaults.stale_after_seconds,
            "schedule": defaults.schedule,
        },
    )
    return config


def kind_configs_ensure() -> None:
    """Create the configuration row of every registered kind (after migrate)."""
    for kind in job_specs():
        kind_config_get(kind=kind)


def workers_enabled() -> bool:
    """The global kill switch (a missing row means on)."""
    row = WorkerGlobalConfig.objects.filter(pk=1).values_list("workers_enabled", flat=True).first()
    return True if row is None else row


@transaction.atomic
def kill_switch_set(*, enabled: bool, by: str, note: str = "") -> WorkerGlobalConfig:
    """Turn every job on (``enabled``) or off; a change of state is recorded with who and when
    (the kill-switch page lists them). Setting the state it already has records nothing."""
    before = workers_enabled()
    config, _ = WorkerGlobalConfig.objects.update_or_create(
        pk=1, defaults={"workers_enabled": enabled, "updated_by": by[:150]}
    )
    if before != enabled or not KillSwitchChange.objects.exists():
        KillSwitchChange.objects.create(
            workers_enabled=enabled, changed_by=by[:150], changed_at=config.updated_at, note=note[:255]
        )
    return config


def backoff_seconds(*, config: JobKindConfig, attempt: int) -> int:
    """Delay before retry number ``attempt`` (1-based); the last configured delay repeats."""
    delays = [int(d) for d in (config.retry_backoff_seconds or []) if int(d) >= 0] or [60]
    return delays[min(attempt, len(delays)) - 1]


def run_log(*, run_id: int, stage: str, message: str, at: datetime | None = None) -> None:
    JobRunLog.objects.create(
        run_id=run_id, stage=stage, message=message[:LOG_MESSAGE_MAX], created_at=at or timezone.now()
    )


def run_finish(
    *,
    run: JobRun,
    status: str,
    summary: dict[str, Any] | None = None,
    error: str = "",
    from_status: str = JobRun.Status.RUNNING,
) -> bool:
    """Close a run if it is still in ``from_status``; False when someone closed it first.

    The watchdog may have marked a run abandoned while its job was still finishing: the first
    writer wins and the other learns it.
    """
    now = timezone.now()
    with transaction.atomic():
        updated = JobRun.objects.filter(pk=run.pk, status=from_status).update(
            status=status, finished_at=now, summary=summary or {}, error=error[:20000]
        )
        if updated:
            run.status, run.finished_at, run.summary, run.error = status, now, summary or {}, error
            stage = "error" if status in {JobRun.Status.FAILED, JobRun.Status.ABANDONED} else "done"
            text = error.strip().splitlines()[-1] if error.strip() else _summary_line(status, summary)
            run_log(run_id=run.pk, stage=stage, message=text, at=now)
    return bool(updated)


def _summary_line(status: str, summary: dict[str, Any] | None) -> str:
    parts = ", ".join(f"{k}={v}" for k, v in (summary or {}).items() if not isinstance(v, dict | list))
    label = str(JobRun.Status(status).label) if status in JobRun.Status.values else status
    return f"{label}: {parts}" if parts else label


def error_text(exc: BaseException) -> str:
    """The exception for operators: the message last, the traceback above it, bounded."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-8000:]
