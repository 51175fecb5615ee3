"""Real processes for the tests that need them: RQ workers on the test database and Redis.

``worker_process`` starts ``manage.py rqworker`` (with RQ's scheduler) in its own process group,
``cron_process`` the Procfile's cron, ``manage_process`` any other command;
``kill_worker_and_horse`` SIGKILLs a worker and the work horse it forked; ``wait_for`` polls a
condition with a generous, bounded timeout (never a bare sleep: the suite runs on busy machines).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


@contextmanager
def worker_process(
    *queues: str, name: str, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """An RQ worker (with the scheduler) in its own process group, on the test DB and Redis."""
    command = ["rqworker", *queues, "--with-scheduler", "--name", name, "--worker-class",
               "genesys.worker.GenesysWorker", "--serializer", "rq.serializers.JSONSerializer"]  # fmt: skip
    with manage_process(*command, name=f"worker-{name}", extra_env=extra_env) as process:
        yield process


@contextmanager
def cron_process(
    *, name: str = "cron", extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """The Procfile's ``cron`` process (``rqcron genesys/cron.py``), on the test DB and Redis."""
    with manage_process("rqcron", "genesys/cron.py", name=name, extra_env=extra_env) as process:
        yield process


@contextmanager
def manage_process(
    *args: str, name: str, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """``manage.py ARGS`` in its own process group, logging to var/test-NAME.log; stopped at exit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "GENESYS_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "JOBS_HEARTBEAT_SECONDS": "1",
        "JOBS_CONCURRENCY_RETRY_SECONDS": "1",
        **(extra_env or {}),
    }
    log = open(settings.VAR_DIR / f"test-{name}.log", "w")  # closed below
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        # The whole group, even when the process itself was killed: a worker's scheduler child
        # outlives a SIGKILLed worker and would hold the scheduler locks for later tests.
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


def _signal_group(pgid: int, number: int) -> None:
    try:
        os.killpg(pgid, number)
    except ProcessLookupError:
        pass


def kill_worker_and_horse(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse (RQ forks the horse into a session of its own)."""
    pgrep = shutil.which("pgrep") or "/usr/bin/pgrep"
    children = subprocess.run([pgrep, "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    for pid in [process.pid, *map(int, children)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
