"""The periodic tick, run by ``manage.py rqcron genesys/cron.py`` every ``JOBS_TICK_SECONDS``.

Each tick: records the cron heartbeat; releases delayed runs past their time that no RQ
scheduler moved (genesys.jobs.scheduling, also with the kill switch on: the runner skips them
and keeps their schedule); (unless the kill switch is on) starts periodic kinds that
are due by their schedule (a cron expression in UTC or "every Ns/m/h", read from the database at
every tick, so admin changes apply at once); lets per-key kinds create their missing jobs (one
ingest job per enabled supplier); and runs the watchdog. A duplicated tick (two cron processes,
a slow worker) does no harm: jobs are unique per key and the housekeeping takes a Redis lock.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

import django_rq
from croniter import croniter
from django.utils import timezone

from genesys.db import connections_refresh
from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.ledger import kind_config_get, workers_enabled
from genesys.jobs.registry import job_specs, schedule_parse
from genesys.jobs.scheduling import scheduled_runs_release
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobRun
from genesys.notifications.services import notification_deliveries_resubmit

logger = logging.getLogger(__name__)

CRON_HEARTBEAT_KEY = "genesys:cron:last-tick"
HOUSEKEEPING_LOCK = "genesys:cron:housekeeping"
HOUSEKEEPING_EVERY_SECONDS = 30


def periodic_tick() -> dict[str, Any]:
    connections_refresh()
    try:
        return _tick(now=timezone.now())
    finally:
        connections_refresh()


def _tick(*, now: datetime) -> dict[str, Any]:
    redis = django_rq.get_connection("default")
    redis.set(CRON_HEARTBEAT_KEY, str(time.time()))
    result: dict[str, Any] = {"enqueued": [], "released": scheduled_runs_release(now=now)}
    if not workers_enabled():
        result["kill_switch"] = True
        return result
    for kind, spec in job_specs().items():
        config = kind_config_get(kind=kind)
        if not config.enabled:
            continue
        try:
            schedule = schedule_parse(config.schedule)
        except ValueError:
            logger.error("Job kind %s has an invalid schedule %r", kind, config.schedule)
            continue
        if schedule is None or not schedule_due(
            kind=kind, schedule=schedule, since=config.updated_at, now=now
        ):
            continue
        if spec.has_work is not None and not spec.has_work():
            continue
        if job_enqueue(kind=kind, triggered_by="schedule") is not None:
            result["enqueued"].append(kind)
    if redis.set(HOUSEKEEPING_LOCK, "1", nx=True, ex=HOUSEKEEPING_EVERY_SECONDS):
        for kind, spec in job_specs().items():
            if spec.reconcile is not None and kind_config_get(kind=kind).enabled:
                spec.reconcile()
        watchdog = jobs_watchdog(now=now)
        result["abandoned"] = watchdog.abandoned
        result["resubmitted"] = watchdog.resubmitted
        result["notifications_resubmitted"] = notification_deliveries_resubmit()
    return result


def schedule_due(*, kind: str, schedule: tuple[str, Any], since: datetime, now: datetime) -> bool:
    """Whether a periodic kind should start now, from its last scheduled run (or ``since``)."""
    last = (
        JobRun.objects.filter(kind=kind, triggered_by="schedule")
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    mode, value = schedule
    if mode == "every":
        return last is None or last + timedelta(seconds=value) <= now
    base = max(last, since) if last else since
    return croniter(value, base).get_next(datetime) <= now
