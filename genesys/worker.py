"""The RQ worker Genesys runs (``rqworker --worker-class genesys.worker.GenesysWorker``).

RQ's own worker has three weaknesses this class removes:

* **Redis blips are fatal.** A ``ConnectionError`` in the worker's own Redis calls (heartbeats,
  job monitoring, bookkeeping) ends the worker after redis-py's three quick retries. Here every
  Redis call of the worker, its work horse and its scheduler retries with exponential backoff
  (capped at ``JOBS_REDIS_BACKOFF_MAX_SECONDS``) until Redis answers again, logging the outage.
* **A worker Redis forgot stays forgotten.** After a Redis restart without the worker's keys,
  RQ's heartbeat only recreates part of its hash, and the worker is missing from RQ's worker list
  (and from /healthz). Here each heartbeat checks the registration and restores it.
* **Queue order is whatever the command line says.** RQ takes the first non-empty queue in the
  order given; a worker started with ``ingest urgent`` would finish every ingest before an
  operator's urgent run. Here the priority queues come first whatever the order given: ``urgent``,
  ``high``, then the others as listed, ``low`` last (docs/workers.md, "Priorities").
* **A dead scheduler blocks delayed jobs for ten minutes.** Only the worker holding a queue's
  scheduler lock moves its delayed jobs; the others retry the lock in their 10-minute maintenance
  pass. Here idle workers wake every ``JOBS_SCHEDULER_CHECK_SECONDS`` (busy ones at every job
  monitoring beat), free locks nobody refreshed for ``JOBS_SCHEDULER_STALE_SECONDS`` and start
  their own scheduler; the scheduler process retries missing locks just as often.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime

from django.conf import settings
from redis import Redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from rq import worker_registration
from rq.scheduler import RQScheduler
from rq.utils import now as now_utc
from rq.worker import Worker

from genesys.jobs.scheduling import scheduler_locks_reclaim

logger = logging.getLogger(__name__)


class PatientRetry(Retry):
    """Retry Redis calls forever with capped exponential backoff, saying so in the log."""

    def __init__(self) -> None:
        super().__init__(
            ExponentialWithJitterBackoff(base=0.5, cap=settings.JOBS_REDIS_BACKOFF_MAX_SECONDS),
            retries=-1,
            supported_errors=(RedisConnectionError, RedisTimeoutError, TimeoutError, ConnectionError),
        )

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        failures = {"count": 0, "since": 0.0}

        def on_failure(error: Exception, count: int | None = None) -> None:
            failures["count"] += 1
            if failures["count"] == 1:
                failures["since"] = time.monotonic()
            if failures["count"] in {1, 3, 10} or failures["count"] % 20 == 0:
                logger.warning(
                    "Redis unavailable (%s), attempt %s; retrying with backoff", error, failures["count"]
                )
            if with_failure_count:
                fail(error, count)
            else:
                fail(error)

        result = super().call_with_retry(do, on_failure, is_retryable, with_failure_count=True)
        if failures["count"]:
            logger.warning("Redis is back after %.1f s", time.monotonic() - failures["since"])
        return result


class GenesysScheduler(RQScheduler):
    """RQ's scheduler, which takes over promptly the queues of a scheduler that died.

    Its process also stops when its worker dies (RQ's would go on alone, unsupervised, holding
    the locks): the locks are released and a live worker's scheduler takes them.
    """

    _worker_pid = 0

    def start(self):
        self._worker_pid = os.getpid()  # the worker; the scheduler process is its child
        return super().start()

    def heartbeat(self) -> None:
        if self._worker_pid and os.getppid() != self._worker_pid and not self._stop_requested:
            self.log.warning("Scheduler: its worker (PID %s) is gone; stopping", self._worker_pid)
            self._stop_requested = True
        super().heartbeat()

    @property
    def should_reacquire_locks(self) -> bool:
        if self._queue_names == self.acquired_locks:
            return False
        if not self.lock_acquisition_time:
            return True
        elapsed = (datetime.now() - self.lock_acquisition_time).total_seconds()
        return elapsed > settings.JOBS_SCHEDULER_CHECK_SECONDS

    def acquire_locks(self, auto_start: bool = False) -> set[str]:
        missing = self._queue_names - self._acquired_locks
        if missing:
            scheduler_locks_reclaim(connection=self.connection, queues=sorted(missing))
        return super().acquire_locks(auto_start=auto_start)


PRIORITY_RANK = {"urgent": 0, "high": 1, "low": 3}


def queues_by_priority(names: list[str]) -> list[str]:
    """``urgent``, ``high``, the kinds' queues in the order given, ``low`` last."""
    return sorted(names, key=lambda name: PRIORITY_RANK.get(name, 2))


class GenesysWorker(Worker):
    """RQ's forking worker that outlives Redis blips and dead schedulers."""

    _last_scheduler_check = 0.0

    def __init__(self, *args, **kwargs) -> None:
        # How often a busy worker beats (and looks for a dead scheduler); RQ's default is 30 s.
        kwargs.setdefault("job_monitoring_interval", settings.JOBS_WORKER_MONITOR_SECONDS)
        super().__init__(*args, **kwargs)
        rank = {name: index for index, name in enumerate(queues_by_priority([q.name for q in self.queues]))}
        self.queues = sorted(self.queues, key=lambda queue: rank[queue.name])
        self._ordered_queues = self.queues[:]

    def _set_connection(self, connection: Redis) -> Redis:
        connection = super()._set_connection(connection)
        connection.connection_pool.set_retry(PatientRetry())
        return connection

    @property
    def dequeue_timeout(self) -> int:
        # Wake up often enough to notice a dead scheduler; a blocking pop is cheap.
        return max(1, min(self.worker_ttl - 15, settings.JOBS_SCHEDULER_CHECK_SECONDS))

    @property
    def connection_timeout(self) -> int:
        return max(self.worker_ttl - 5, self.dequeue_timeout + 10)

    # --- scheduler --------------------------------------------------------------------------
    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None, log_format=None):
        """RQ's own start-up, with ``GenesysScheduler`` instead of ``RQScheduler``."""
        options = {k: v for k, v in {"date_format": date_format, "log_format": log_format}.items() if v}
        self.scheduler = GenesysScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            serializer=self.serializer,
            **options,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def scheduler_ensure(self) -> None:
        """Start this worker's scheduler when no live scheduler holds the locks."""
        if self.scheduler is None or self.is_horse:
            return
        self._last_scheduler_check = time.monotonic()
        process = self.scheduler._process
        if process is not None and process.is_alive():
            return  # it retries missing locks itself, every JOBS_SCHEDULER_CHECK_SECONDS
        acquired = self.scheduler.acquire_locks(auto_start=True)
        if acquired:
            self.log.info("Worker %s: took over the scheduler of %s", self.name, ", ".join(sorted(acquired)))

    @property
    def should_run_maintenance_tasks(self) -> bool:
        due = time.monotonic() - self._last_scheduler_check >= settings.JOBS_SCHEDULER_CHECK_SECONDS
        return super().should_run_maintenance_tasks or (self.last_cleaned_at is not None and due)

    def run_maintenance_tasks(self) -> None:
        if self.last_cleaned_at is not None:
            self.scheduler_ensure()
        if super().should_run_maintenance_tasks:
            super().run_maintenance_tasks()
            self.silence_check()

    def silence_check(self) -> None:
        """Notify "cron or scheduler silent" when the tick or RQ's scheduler stopped (never raises)."""
        from genesys.notifications.silence import scheduling_silence_notify

        try:
            age = (now_utc() - self.birth_date).total_seconds() if self.birth_date else 0.0
            scheduling_silence_notify(worker_age_seconds=age)
        except Exception:
            self.log.exception("Worker %s: could not check the cron and the scheduler", self.name)

    def maintain_heartbeats(self, job) -> None:
        super().maintain_heartbeats(job)
        self.registration_ensure()  # a busy worker stays listed through a Redis restart too
        if time.monotonic() - self._last_scheduler_check >= settings.JOBS_SCHEDULER_CHECK_SECONDS:
            self.scheduler_ensure()

    # --- registration -----------------------------------------------------------------------
    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        super().heartbeat(timeout, pipeline=pipeline)
        if pipeline is None and not self.is_horse and self.birth_date is not None:
            self.registration_ensure()

    def registration_ensure(self) -> bool:
        """Put this worker back in RQ's worker list if Redis lost it; True when it had to."""
        with self.connection.pipeline() as pipeline:
            pipeline.sismember(worker_registration.REDIS_WORKER_KEYS, self.key)
            pipeline.hexists(self.key, "birth")
            listed, born = pipeline.execute()
        if listed and born:
            return False
        self.log.warning("Worker %s: Redis lost this worker's registration; registering again", self.name)
        with self.connection.pipeline() as pipeline:
            pipeline.hset(self.key, mapping={**self.serialize(), "state": self.get_state()})
            worker_registration.register(self, pipeline)
            pipeline.expire(self.key, self.worker_ttl + 60)
            pipeline.execute()
        return True
