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
from django.utils.translation import gettext as _

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


class JobParamsError(ValueError):
    """A kind's parameters are not what it declares; ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class JobParam:
    """One parameter a kind accepts from outside (the API, the admin): its type and whether it
    is required; ``choices`` limits a string to a few values."""

    type: type
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""


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
    # The parameters a request from outside may carry (anything else is refused), and a check
    # across them (raising JobParamsError) for rules one parameter alone cannot say.
    params: dict[str, JobParam] | None = None
    params_check: Callable[[dict[str, Any]], None] | None = None
    # The priority of the kind's own runs (scheduled, retried): "normal", or "low" for maintenance.
    priority: str = "normal"
    # Keys that name one run each (operator requests): retention keeps the last runs per kind.
    retention_per_kind: bool = False


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
    params: dict[str, JobParam] | None = None,
    params_check: Callable[[dict[str, Any]], None] | None = None,
    priority: str = "normal",
    retention_per_kind: bool = False,
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
            params=params,
            params_check=params_check,
            priority=priority,
            retention_per_kind=retention_per_kind,
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


def job_params_validate(*, spec: JobSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as the kind declares them (JSON numbers that are whole become ints), or
    JobParamsError naming the first one that is unknown, missing or of the wrong type."""
    declared = spec.params or {}
    cleaned: dict[str, Any] = {}
    for name, value in params.items():
        param = declared.get(name)
        if param is None:
            raise JobParamsError(
                name,
                _("unknown parameter (accepted: %(names)s)") % {"names": ", ".join(sorted(declared)) or "-"},
            )
        cleaned[name] = _param_value(name=name, param=param, value=value)
    for name, param in declared.items():
        if param.required and name not in cleaned:
            raise JobParamsError(name, _("this parameter is required"))
    if spec.params_check is not None:
        spec.params_check(cleaned)
    return cleaned


def _param_value(*, name: str, param: JobParam, value: Any) -> Any:
    if param.type is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise JobParamsError(name, _("must be a whole number"))
    elif param.type is list:
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise JobParamsError(name, _("must be a list of whole numbers"))
    elif param.type is str:
        if not isinstance(value, str) or not value.strip():
            raise JobParamsError(name, _("must be a non-empty text"))
        if param.choices and value not in param.choices:
            raise JobParamsError(
                name, _("must be one of %(choices)s") % {"choices": ", ".join(param.choices)}
            )
    elif param.type is bool:
        if not isinstance(value, bool):
            raise JobParamsError(name, _("must be true or false"))
    return value


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
