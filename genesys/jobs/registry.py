"""Job kinds: what runs, on which queue, under which key, with which default configuration.

Each app declares its kinds in its ``jobs.py`` with ``@job_kind(...)``; the ``genesys`` app
imports every ``jobs`` module at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from croniter import croniter

_EVERY = re.compile(r"^every\s+(\d+)\s*(s|m|h)$")


@dataclass(frozen=True)
class KindDefaults:
    """The configuration a kind starts with; operators change it in the admin."""

    enabled: bool = True
    max_concurrency: int = 1
    retry_attempts: int = 3
    retry_backoff_seconds: tuple[int, ...] = (60, 300, 900)
    timeout_seconds: int = 3600
    stale_after_seconds: int = 7200
    schedule: str = ""


@dataclass(frozen=True)
class JobSpec:
    kind: str
    func: Callable[..., Any]
    queue: str
    key: Callable[[dict[str, Any]], str]
    defaults: KindDefaults
    # Called after a run ends for good (success, warning, final failure, skipped, abandoned).
    after: Callable[[Any], None] | None = None
    # For periodic kinds: is there anything to do? (skips a run, and its ledger row, when not)
    has_work: Callable[[], bool] | None = None
    # Cleans up what a run left behind when the watchdog abandons it (e.g. its feed runs).
    abandoned: Callable[[Any], None] | None = None
    # Called by the periodic tick to create missing per-key jobs (e.g. one per supplier).
    reconcile: Callable[[], Any] | None = None
    # Turns a key given on the command line ("supplier_ingest:3") back into parameters.
    params_from_key: Callable[[str], dict[str, Any]] | None = None


_REGISTRY: dict[str, JobSpec] = {}


def job_kind(
    kind: str,
    *,
    queue: str,
    key: Callable[[dict[str, Any]], str] | None = None,
    defaults: KindDefaults = KindDefaults(),
    after: Callable[[Any], None] | None = None,
    has_work: Callable[[], bool] | None = None,
    abandoned: Callable[[Any], None] | None = None,
    reconcile: Callable[[], Any] | None = None,
    params_from_key: Callable[[str], dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function ``func(ctx: JobContext)`` as the job of ``kind``."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[kind] = JobSpec(
            kind=kind,
            func=func,
            queue=queue,
            key=key or (lambda _params: kind),
            defaults=defaults,
            after=after,
            has_work=has_work,
            abandoned=abandoned,
            reconcile=reconcile,
            params_from_key=params_from_key,
        )
        return func

    return register


def job_spec(kind: str) -> JobSpec:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"Unknown job kind {kind!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def job_specs() -> dict[str, JobSpec]:
    return dict(_REGISTRY)


def schedule_parse(schedule: str) -> tuple[str, int | str] | None:
    """("every", seconds) or ("cron", expression) or None for no schedule; ValueError if invalid."""
    text = schedule.strip()
    if not text:
        return None
    match = _EVERY.match(text)
    if match:
        seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]
        if seconds < 1:
            raise ValueError("an interval must be at least one second")
        return ("every", seconds)
    if croniter.is_valid(text):
        return ("cron", text)
    raise ValueError(f'"{text}" is neither a cron expression ("0 3 * * *") nor an interval ("every 30s")')
