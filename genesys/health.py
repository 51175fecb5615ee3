"""Health checks for /healthz: each answers quickly and never raises.

Healthy means: the database and Redis answer, at least one RQ worker is alive, RQ's scheduler
holds its lock for every Genesys queue (someone runs ``rqworker --with-scheduler``) and no
delayed job is more than ``JOBS_SCHEDULED_OVERDUE_SECONDS`` past its time, the cron
process beats and its periodic tick ran recently, and the oldest sendable shop update is not
older than ``HEALTH_STREAM_MAX_AGE_SECONDS``.

The checks of the system's own parts live here; each app adds the checks of its data with
``@health_check("<name>")`` in its ``health.py`` (the ``genesys`` app imports every app's
``health`` module at start-up), so this module names no app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import redis
from django.conf import settings
from django.db import connection
from rq.cron_scheduler_registry import get_registry_key as cron_registry_key
from rq.scheduler import SCHEDULER_LOCKING_KEY_TEMPLATE

from genesys.jobs.scheduler import CRON_HEARTBEAT_KEY
from genesys.jobs.scheduling import scheduled_overdue


def _timed(check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        detail = check() or {}
        result: dict[str, Any] = {"ok": detail.pop("ok", True), **detail}
    except Exception as exc:  # a health check reports failures, it does not raise them
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _redis() -> redis.Redis:
    # Short timeouts of its own: a health probe must answer even when Redis hangs.
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_redis() -> dict[str, Any]:
    client = _redis()
    try:
        client.ping()
    finally:
        client.close()
    return {}


def check_workers() -> dict[str, Any]:
    from rq.worker import Worker

    client = _redis()
    try:
        workers = Worker.all(connection=client)
        return {"ok": bool(workers), "alive": len(workers), "names": sorted(w.name for w in workers)[:10]}
    finally:
        client.close()


def check_scheduler() -> dict[str, Any]:
    client = _redis()
    try:
        held = {
            name: bool(client.exists(SCHEDULER_LOCKING_KEY_TEMPLATE % name))
            for name in settings.GENESYS_QUEUES
        }
        overdue = scheduled_overdue(connection=client, older_than=settings.JOBS_SCHEDULED_OVERDUE_SECONDS)
    finally:
        client.close()
    return {
        "ok": all(held.values()) and not any(overdue.values()),
        "queues": held,
        "overdue_scheduled_jobs": sum(overdue.values()),
    }


def check_cron() -> dict[str, Any]:
    client = _redis()
    try:
        now = time.time()
        # withscores=True gives (member, score) pairs, which redis's types do not tie to the flag
        scored = cast("list[tuple[bytes, float]]", client.zrange(cron_registry_key(), 0, -1, withscores=True))
        beats = [score for _, score in scored]
        raw_tick = client.get(CRON_HEARTBEAT_KEY)
    finally:
        client.close()
    process_age = round(now - max(beats), 1) if beats else None
    tick_age = round(now - float(raw_tick), 1) if raw_tick else None
    limit = max(3 * settings.JOBS_TICK_SECONDS, 60)
    ok = process_age is not None and process_age < limit and tick_age is not None and tick_age < limit + 60
    return {"ok": ok, "process_heartbeat_age_s": process_age, "last_tick_age_s": tick_age}


HealthCheck = Callable[[], dict[str, Any] | None]

CHECKS: dict[str, HealthCheck] = {
    "database": check_database,
    "redis": check_redis,
    "workers": check_workers,
    "scheduler": check_scheduler,
    "cron": check_cron,
}


def health_check(name: str) -> Callable[[HealthCheck], HealthCheck]:
    """Register ``func() -> dict | None`` as the check ``name`` of /healthz: it says ``ok`` (True when
    left out) and what it measured; an exception is reported as a failed check."""

    def register(func: HealthCheck) -> HealthCheck:
        CHECKS[name] = func
        return func

    return register


def health_report() -> dict[str, Any]:
    checks = {name: _timed(check) for name, check in CHECKS.items()}
    return {"healthy": all(c["ok"] for c in checks.values()), "checks": checks}
