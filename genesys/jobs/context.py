"""What a running job sees: its run, parameters and configuration, a log, heartbeats."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections, reset_queries
from django.utils import timezone

from genesys.jobs.ledger import kind_config_get, run_log, workers_enabled
from genesys.jobs.stopping import run_stop_flag_get
from genesys.models import JobKindConfig, JobRun

logger = logging.getLogger(__name__)

PROGRESS_LOG_EVERY_SECONDS = 2.0
STOP_CHECK_EVERY_SECONDS = 5.0
CANCEL_FLAG_CHECK_EVERY_SECONDS = 0.2


class JobSkip(Exception):
    """Raised by a job that decides there is nothing to do; the run ends as skipped, no retry."""


class JobCancelled(Exception):
    """Raised by a job that stops on a cancel request without a result to report; the run ends
    cancelled (a job may also just return what it finished: the runner sees the request)."""


@dataclass
class JobOutcome:
    """What a job returns when it wants a status other than success (e.g. ``warning``)."""

    summary: dict[str, Any] = field(default_factory=dict)
    status: str = JobRun.Status.SUCCESS


class Heartbeat:
    """Touches ``JobRun.heartbeat_at`` from a thread while the job runs.

    The watchdog abandons running runs whose heartbeat stops: a worker killed with SIGKILL or by
    the OOM killer never gets to close its run, but it stops beating.
    """

    def __init__(self, run_id: int, every: float | None = None) -> None:
        self.run_id = run_id
        self.every = every or settings.JOBS_HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)

    def _beat(self) -> None:
        failing = False
        try:
            while not self._stop.wait(self.every):
                try:
                    JobRun.objects.filter(pk=self.run_id, status=JobRun.Status.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception as exc:  # a database blip: keep beating once it is back
                    if not failing:
                        logger.warning("Heartbeat of run %s failed (%s); retrying", self.run_id, exc)
                    failing = True
                    connections.close_all()  # this thread's own, broken, connection
                    continue
                if failing:
                    logger.warning("Heartbeat of run %s is beating again", self.run_id)
                    failing = False
        finally:
            connections.close_all()  # this thread's own connection


class JobContext:
    """Passed to every job function."""

    def __init__(
        self, *, run: JobRun, config: JobKindConfig, echo: Callable[[str], None] | None = None
    ) -> None:
        self.run = run
        self.echo = echo
        self.params: dict[str, Any] = dict(run.params or {})
        self.config = config
        self._last_progress = 0.0
        self._last_stop_check = time.monotonic()
        self._last_flag_check = 0.0
        self._stop = False
        # Why the job was told to stop: "cancelled" (an operator's request), "kill_switch",
        # "kind_disabled"; empty while it was not.
        self.stop_reason = ""

    def log(self, message: str, *, stage: str = "page") -> None:
        run_log(run_id=self.run.pk, stage=stage, message=message)
        if self.echo:
            self.echo(message)

    def progress(
        self, message: str, *, done: int | None = None, total: int | None = None, unit: str = ""
    ) -> None:
        """A progress line in the run's log (at most one every couple of seconds) and a heartbeat;
        ``done`` of ``total`` (when known) ``unit`` are kept on the run for the API and the admin."""
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_LOG_EVERY_SECONDS:
            return
        self._last_progress = now
        self.log(message)
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if done is not None:
            fields["progress"] = {"done": done, "total": total, "unit": unit, "message": message[:500]}
            self.run.progress = fields["progress"]
        JobRun.objects.filter(pk=self.run.pk).update(**fields)
        # With DEBUG on, Django keeps the text of every query until a request ends; a job has no
        # requests, and an ingest's queries carry thousands of ids each: drop them as it goes.
        reset_queries()

    @property
    def cancelled(self) -> bool:
        """True once the job was told to stop because an operator cancelled its run."""
        return self.stop_reason == "cancelled"

    def stop_requested(self) -> bool:
        """True once the run was cancelled, the kill switch is on or the kind was disabled: long
        jobs call it between chunks (their safe points) and stop cleanly when it says so.

        The cancel flag (Redis) is read at most every 0.2 s; the database (kill switch, the
        kind's flag, the cancel request kept on the run) every few seconds.
        """
        if self._stop:
            return True
        now = time.monotonic()
        if now - self._last_flag_check >= CANCEL_FLAG_CHECK_EVERY_SECONDS:
            self._last_flag_check = now
            if run_stop_flag_get(run_id=self.run.pk):
                return self._stopping("cancelled")
        if now - self._last_stop_check >= STOP_CHECK_EVERY_SECONDS:
            self._last_stop_check = now
            if JobRun.objects.filter(pk=self.run.pk, cancel_requested_at__isnull=False).exists():
                return self._stopping("cancelled")
            if not workers_enabled():
                return self._stopping("kill_switch")
            if not kind_config_get(kind=self.run.kind).enabled:
                return self._stopping("kind_disabled")
        return False

    def _stopping(self, reason: str) -> bool:
        self._stop, self.stop_reason = True, reason
        self.log(f"stop requested ({reason}); stopping at this safe point")
        return True
