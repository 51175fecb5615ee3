"""Workers outlive Redis and database outages: private servers stopped and started mid-job.

* Redis dies (SIGKILL, every key lost) under a busy worker and comes back empty: the worker keeps
  running, its job completes, and it is in RQ's worker list again (so /healthz counts it).
* PostgreSQL stops while an ingest runs: the ingest fails on the lost connection; the worker
  retries recording that failure until the database is back, and the retry completes the feed.
  If the worker is killed before the database returns, the watchdog records the same cause
  from Redis instead of "worker vanished". Either way the catalog ends as a clean run's.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis as redis_py
from django.core.management import call_command
from django.db import DatabaseError, connection
from rq.worker import Worker

from genesys.health import check_workers
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobKindConfig, JobRun
from procurement.services.scheduling import supplier_ingests_schedule
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory, make_gtin
from tests.support.jobs import jobs_work
from tests.support.processes import cron_process, kill_worker_and_horse, wait_for, worker_process
from tests.support.services import PostgresCluster, _pg_bin, postgres_cluster, redis_server
from tests.support.states import catalog_state

pytestmark = pytest.mark.django_db(transaction=True)
QUEUES = ("urgent", "high", "sync", "catalog", "ingest", "maintenance", "default", "low")
PROFILE = {"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}, "meta": "none"}
ROWS = 300
OUTAGE_SECONDS = 45  # beyond RQ's own 30 s job monitoring beat, too


def price_list() -> bytes:
    lines = "".join(f"S{n};{make_gtin(n)};{10 + n % 7}.50;{n % 5}\n" for n in range(ROWS))
    return ("sku;ean;price;stock\n" + lines).encode()


def held_feed(feed_server, gate: threading.Event) -> None:
    """The price list, sent once ``gate`` opens (the first request waits, later ones don't)."""

    def body(request):
        gate.wait(timeout=300)
        return price_list()

    feed_server.route("/list.csv", body=body)


def supplier_with_feed(feed_server):
    supplier = SupplierFactory(name="Distrilusa", ingest_enabled=True, ingest_interval_minutes=60)
    feed = SupplierFeedFactory(
        supplier=supplier, source_url=feed_server.url("/list.csv"),
        format_options={"delimiter": ";", "timeout": 300, "retry_backoff": 0.01},
    )  # fmt: skip
    FeedMapperFactory(feed=feed, profile=PROFILE)
    JobKindConfig.objects.filter(kind="supplier_ingest").update(retry_attempts=2, retry_backoff_seconds=[0])
    return supplier


def clean_run_state(feed_server) -> dict:
    """What the same feed gives without faults, ingested in-process on the test database."""
    feed_server.route("/list.csv", body=price_list())
    supplier_with_feed(feed_server)
    supplier_ingests_schedule()
    jobs_work()
    return catalog_state()


def log_of(name: str) -> str:
    from django.conf import settings

    return (settings.VAR_DIR / f"test-worker-{name}.log").read_text(errors="replace")


# --- Redis ------------------------------------------------------------------------------------
@pytest.fixture
def private_redis(settings) -> Iterator:
    """The test process and its workers on a private redis-server (database 1)."""
    with redis_server() as server:
        url = f"{server.url}/1"
        settings.REDIS_URL = url
        settings.RQ_QUEUES = {name: {**config, "URL": url} for name, config in settings.RQ_QUEUES.items()}
        server.env = {"TEST_REDIS_URL": server.url, "TEST_REDIS_DB": "1", "PYTEST_XDIST_WORKER": "gw0"}
        yield server


def test_a_busy_worker_survives_a_redis_crash_and_is_listed_again(feed_server, private_redis):
    gate = threading.Event()
    held_feed(feed_server, gate)
    supplier = supplier_with_feed(feed_server)
    env = {**private_redis.env, "JOBS_WORKER_MONITOR_SECONDS": "1", "JOBS_REDIS_BACKOFF_MAX_SECONDS": "2"}
    with worker_process(*QUEUES, name="busy", extra_env=env) as worker:
        supplier_ingests_schedule()
        wait_for(lambda: feed_server.requests, timeout=60, what="the ingest to start downloading")

        private_redis.stop()
        down_at = time.monotonic()
        # An outage longer than redis-py's own few retries (RQ's worker exits after those).
        wait_for(
            lambda: worker.poll() is not None or time.monotonic() - down_at > OUTAGE_SECONDS,
            timeout=OUTAGE_SECONDS + 60,
            what="a long Redis outage",
        )
        assert worker.poll() is None, "the worker exited during the outage"
        assert "Redis unavailable" in log_of("busy")
        private_redis.start()  # empty: Redis lost every key, the worker's registration too
        client = redis_py.Redis.from_url(private_redis.url + "/1")
        wait_for(
            lambda: "busy" in {w.name for w in Worker.all(connection=client)},
            timeout=60,
            what="the worker to register again",
        )
        gate.set()
        wait_for(
            lambda: JobRun.objects.filter(key=f"supplier_ingest:{supplier.pk}", status="success").exists(),
            timeout=120,
            what="the ingest to complete",
        )
        assert worker.poll() is None, "the worker exited"
        assert check_workers()["alive"] == 1
        client.close()
    faulty = catalog_state()
    call_command("flush", interactive=False, verbosity=0)
    assert faulty == clean_run_state(feed_server)


# --- PostgreSQL -------------------------------------------------------------------------------
@contextmanager
def private_database() -> Iterator[PostgresCluster]:
    """The test process's default connection, and its workers, on a private PostgreSQL cluster.

    The cluster gets the test database's schema; on leaving, the connection is the test
    database's again.
    """
    original = dict(connection.settings_dict)
    schema = subprocess.run(
        [_pg_bin("pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
         "-h", original["HOST"] or "127.0.0.1", "-p", str(original["PORT"] or 5432),
         "-U", original["USER"] or "postgres", original["NAME"]],
        check=True, capture_output=True, text=True, env={"PGPASSWORD": original["PASSWORD"] or ""},
    ).stdout  # fmt: skip
    with postgres_cluster() as cluster:
        cluster.psql("postgres", "CREATE DATABASE genesys_faults")
        cluster.psql("genesys_faults", stdin=schema)
        connection.close()
        connection.settings_dict.update(
            HOST="127.0.0.1", PORT=str(cluster.port), NAME="genesys_faults", USER="postgres", PASSWORD=""
        )
        cluster.env = {"DATABASE_URL": cluster.url("genesys_faults")}
        try:
            yield cluster
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)


def db(query):
    """A condition that reads the database, false while it is down."""

    def condition() -> bool:
        try:
            return bool(query())
        except DatabaseError:
            connection.close()
            return False

    return condition


@pytest.mark.parametrize("worker_survives", [True, False], ids=["worker-records", "watchdog-records"])
def test_a_database_outage_mid_ingest_is_recorded_with_its_cause_and_the_retry_completes(
    feed_server, redis_conn, settings, worker_survives
):
    with private_database() as pg:
        gate = threading.Event()
        held_feed(feed_server, gate)
        supplier = supplier_with_feed(feed_server)
        key = f"supplier_ingest:{supplier.pk}"
        env = {**pg.env, "JOBS_WORKER_MONITOR_SECONDS": "1"}
        with worker_process(*QUEUES, name="pg-1", extra_env=env) as worker, cron_process(extra_env=pg.env):
            supplier_ingests_schedule()
            first = JobRun.objects.get(key=key)
            wait_for(lambda: feed_server.requests, timeout=60, what="the ingest to start downloading")

            pg.stop("fast")  # every session ends: the ingest's, the heartbeat's, the cron's
            gate.set()  # the download ends and the ingest needs the database
            cause_key = f"genesys:run:{first.pk}:cause"
            wait_for(
                lambda: redis_conn.exists(cause_key), timeout=60, what="the failure's cause kept in Redis"
            )
            assert "OperationalError" in redis_conn.get(cause_key).decode()
            wait_for(lambda: "database unavailable" in log_of("pg-1"), timeout=60, what="recording retries")
            if not worker_survives:
                kill_worker_and_horse(worker)
            pg.start()

            if worker_survives:
                wait_for(db(lambda: JobRun.objects.filter(pk=first.pk, status="failed").exists()),
                         timeout=120, what="the failure to be recorded")  # fmt: skip
            else:
                settings.JOBS_HEARTBEAT_GRACE_SECONDS = 2

                def abandoned() -> bool:
                    jobs_watchdog()
                    return JobRun.objects.filter(pk=first.pk, status="abandoned").exists()

                wait_for(db(abandoned), timeout=120, what="the watchdog to close the run")
            first.refresh_from_db()
            assert "OperationalError" in first.error
            assert "vanished" not in first.error
            assert not redis_conn.exists(cause_key)

            with worker_process(*QUEUES, name="pg-2", extra_env=pg.env):
                wait_for(
                    db(lambda: JobRun.objects.filter(key=key, attempt=2, status="success").exists()),
                    timeout=180,
                    what="the retry to complete the feed",
                )
        faulty = catalog_state()
    assert faulty == clean_run_state(feed_server)
