"""Delayed runs (retries, next per-supplier ingests) start on time whichever process dies.

A delayed run is an RQ job in a queue's scheduled registry. RQ's scheduler moves it to its queue
when due, but only the process holding that queue's scheduler lock does so; the lock outlives a
killed holder by its 61 s TTL, and RQ's surviving workers only try to take it every 10 minutes.
Two things close that gap:

* a lock nobody refreshed for ``JOBS_SCHEDULER_STALE_SECONDS`` belongs to a dead (or wedged)
  scheduler: ``scheduler_locks_reclaim`` deletes it, atomically and only while it is still stale,
  so a live worker's scheduler (``genesys.worker``) takes over within seconds;
* every periodic tick releases, from the ledger, queued runs past their time whose RQ job still
  waits in a scheduled registry (``scheduled_runs_release``). It does so holding the queue's
  scheduler lock, as RQ's own scheduler would, so the two never move the same job twice; when a
  live scheduler holds the lock, that scheduler is moving them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

import django_rq
from django.conf import settings
from django.utils import timezone
from redis import Redis
from rq.job import Job
from rq.queue import Queue
from rq.registry import ScheduledJobRegistry
from rq.scheduler import SCHEDULER_LOCKING_KEY_TEMPLATE
from rq.scripts import acquire_or_refresh_lock, release_lock
from rq.serializers import JSONSerializer

from genesys.jobs.enqueue import queue_name as run_queue_name
from genesys.models import JobRun

logger = logging.getLogger(__name__)

# RQ's scheduler (interval 1 s) sets its locks with a TTL of interval + 60 and refreshes them at
# every loop: a remaining TTL far below that means nobody has refreshed the lock for a while.
SCHEDULER_LOCK_TTL = 61

_RECLAIM_STALE_LOCK = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
if ttl == -1 or ttl < tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def scheduler_lock_key(queue: str) -> str:
    return SCHEDULER_LOCKING_KEY_TEMPLATE % queue


def scheduler_locks_reclaim(*, connection: Redis, queues: Iterable[str]) -> list[str]:
    """Delete the scheduler locks of ``queues`` that nobody refreshed for the stale period.

    The check and the delete are one Lua script: a lock a live scheduler refreshes in between is
    never deleted. Returns the queues whose lock was freed.
    """
    stale = settings.JOBS_SCHEDULER_STALE_SECONDS
    threshold_ms = max(0, (SCHEDULER_LOCK_TTL - stale) * 1000)
    script = connection.register_script(_RECLAIM_STALE_LOCK)
    freed = [name for name in queues if script(keys=[scheduler_lock_key(name)], args=[threshold_ms])]
    for name in freed:
        logger.warning(
            "Scheduler lock of queue %s was not refreshed for %s s (its scheduler died); freed it",
            name,
            stale,
        )
    return freed


def scheduled_runs_release(*, now: datetime | None = None) -> list[int]:
    """Put queued runs whose time has come, but whose RQ job is still scheduled, on their queue.

    Only runs past their time by ``JOBS_SCHEDULER_SLACK_SECONDS`` are considered (a live RQ
    scheduler moves jobs within a second). Idempotent: a job leaves the scheduled registry once
    (ZREM decides), and the queue's scheduler lock keeps RQ's scheduler off it meanwhile.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOBS_SCHEDULER_SLACK_SECONDS)
    due = (
        JobRun.objects.filter(status=JobRun.Status.QUEUED, scheduled_for__lte=cutoff)
        .order_by("scheduled_for")
        .values_list("pk", "kind", "priority", "rq_job_id")[:1000]
    )
    by_queue: dict[str, dict[str, int]] = defaultdict(dict)
    for run_id, kind, priority, rq_job_id in due:
        try:
            by_queue[run_queue_name(kind=kind, priority=priority)][rq_job_id] = run_id
        except LookupError:
            continue
    if not by_queue:
        return []
    connection = django_rq.get_connection("default")
    released: list[int] = []
    for queue_name, runs in by_queue.items():
        released += _release_queue(connection=connection, queue_name=queue_name, runs=runs)
    return released


def _release_queue(*, connection: Redis, queue_name: str, runs: dict[str, int]) -> list[int]:
    registry = ScheduledJobRegistry(queue_name, connection=connection, serializer=JSONSerializer)
    scores = connection.zmscore(registry.key, list(runs))
    waiting = [job_id for job_id, score in zip(runs, scores, strict=True) if score is not None]
    if not waiting:
        return []
    scheduler_locks_reclaim(connection=connection, queues=[queue_name])
    owner = f"genesys-tick-{uuid.uuid4().hex}"
    key = scheduler_lock_key(queue_name)
    if acquire_or_refresh_lock(connection, key, owner, SCHEDULER_LOCK_TTL) != "acquired":
        return []  # a live scheduler holds the lock: it is moving them
    released: list[int] = []
    try:
        queue = Queue(queue_name, connection=connection, serializer=JSONSerializer)
        now = time.time()
        for job in Job.fetch_many(waiting, connection=connection, serializer=JSONSerializer):
            if job is None:
                continue  # the job hash is gone: the watchdog resubmits the run
            score = connection.zscore(registry.key, job.id)
            if score is None or score > now or not connection.zrem(registry.key, job.id):
                continue
            queue.enqueue_job(job)
            released.append(runs[job.id])
    finally:
        release_lock(connection, key, owner)
    if released:
        logger.warning(
            "Released %s overdue scheduled run(s) on queue %s (no live RQ scheduler moved them): %s",
            len(released),
            queue_name,
            released,
        )
    return released


def scheduled_overdue(*, connection: Redis, older_than: float) -> dict[str, int]:
    """Per queue, how many scheduled jobs are past their time by more than ``older_than`` s."""
    limit = time.time() - older_than
    counts = {}
    for name in settings.GENESYS_QUEUES:
        key = ScheduledJobRegistry(name, connection=connection, serializer=JSONSerializer).key
        counts[name] = int(connection.zcount(key, "-inf", limit))
    return counts
