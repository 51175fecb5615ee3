"""The worker holding RQ's scheduler dies: delayed runs still start within seconds of their time.

Two real workers and the real cron process, as the Procfile runs them. The worker whose
scheduler holds the locks is SIGKILLed (with its scheduler process) while a retry waits for its
time; the survivor runs the retry within 15 s of that time (RQ alone: about ten minutes).
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from rq.scheduler import RQScheduler
from rq.worker import Worker

from genesys.models import JobKindConfig, JobRun
from procurement.models import SupplierItem
from procurement.services.scheduling import supplier_ingests_schedule
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory, make_gtin
from tests.support.feed_server import Reply
from tests.support.processes import cron_process, kill_worker_and_horse, wait_for, worker_process

pytestmark = pytest.mark.django_db(transaction=True)
QUEUES = ("urgent", "high", "notify", "sync", "catalog", "ingest", "maintenance", "default", "low")
GENESYS_QUEUES = ("urgent", "high", "notify", "ingest", "catalog", "sync", "maintenance", "low")
PROFILE = {"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}, "meta": "none"}
ROWS = 50


def price_list() -> bytes:
    lines = "".join(f"S{n};{make_gtin(n)};{10 + n % 7}.50;{n % 5}\n" for n in range(ROWS))
    return ("sku;ean;price;stock\n" + lines).encode()


def scheduler_worker_pid(redis_conn) -> int | None:
    """The pid of the worker whose scheduler process holds every Genesys queue's lock."""
    owners = {redis_conn.get(RQScheduler.get_locking_key(name)) for name in GENESYS_QUEUES}
    if len(owners) != 1 or None in owners:
        return None
    scheduler_pid = redis_conn.hget(f"rq:scheduler:{owners.pop().decode()}", "pid")
    if not scheduler_pid:
        return None
    try:
        with open(f"/proc/{int(scheduler_pid)}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])  # the parent: the worker
    except OSError:
        return None


def test_a_retry_starts_on_the_survivor_soon_after_the_scheduler_holder_is_killed(feed_server, redis_conn):
    JobKindConfig.objects.filter(kind="supplier_ingest").update(retry_attempts=2, retry_backoff_seconds=[2])
    feed = {"up": False}
    feed_server.route(
        "/list.csv",
        body=lambda request: Reply(body=price_list()) if feed["up"] else Reply(status=503, body="busy"),
    )
    supplier = SupplierFactory(name="Flaky", ingest_enabled=True, ingest_interval_minutes=60)
    FeedMapperFactory(
        feed=SupplierFeedFactory(
            supplier=supplier, source_url=feed_server.url("/list.csv"),
            format_options={"delimiter": ";", "timeout": 30, "retry_backoff": 0.01},
        ),
        profile=PROFILE,
    )  # fmt: skip
    key = f"supplier_ingest:{supplier.pk}"

    with worker_process(*QUEUES, name="holder") as holder:
        wait_for(
            lambda: scheduler_worker_pid(redis_conn) == holder.pid, timeout=60, what="the holder's scheduler"
        )
        with worker_process(*QUEUES, name="survivor"), cron_process():
            wait_for(
                lambda: "survivor" in {w.name for w in Worker.all(connection=redis_conn)},
                timeout=60,
                what="the survivor to register",
            )
            supplier_ingests_schedule()
            wait_for(
                lambda: JobRun.objects.filter(key=key, attempt=2, status="queued").exists(),
                timeout=60,
                what="the first attempt to fail and schedule its retry",
            )
            kill_worker_and_horse(holder)
            killed_at = time.time()
            feed["up"] = True
            retry = JobRun.objects.get(key=key, attempt=2)
            assert killed_at < retry.scheduled_for.timestamp(), "the holder died after the retry was due"

            wait_for(
                lambda: JobRun.objects.filter(pk=retry.pk, status="success").exists(),
                timeout=120,
                what="the retry to run",
            )
    retry.refresh_from_db()
    late = (retry.started_at - retry.scheduled_for).total_seconds()
    assert late <= 15, f"the retry started {late:.1f} s after its time"
    assert retry.worker_name == "survivor"
    assert SupplierItem.objects.filter(supplier=supplier).count() == ROWS
    # The regular schedule continues after the retry: exactly one next run, in an hour.
    assert JobRun.objects.filter(key=key, status="queued").count() == 1


def test_a_scheduler_whose_worker_was_killed_stops_and_releases_its_locks(redis_conn):
    with worker_process(*QUEUES, name="alone") as worker:
        wait_for(lambda: scheduler_worker_pid(redis_conn) == worker.pid, timeout=60, what="its scheduler")
        owner = redis_conn.get(RQScheduler.get_locking_key("ingest")).decode()
        scheduler_pid = int(redis_conn.hget(f"rq:scheduler:{owner}", "pid"))
        os.kill(worker.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
        worker.wait()

        def scheduler_gone() -> bool:
            try:
                with open(f"/proc/{scheduler_pid}/stat") as stat:
                    return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
            except OSError:
                return True

        wait_for(scheduler_gone, timeout=60, what="the orphaned scheduler to stop")
        assert not any(redis_conn.exists(RQScheduler.get_locking_key(name)) for name in GENESYS_QUEUES)
