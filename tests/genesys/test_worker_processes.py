"""Real RQ worker processes: max concurrency across workers, and a worker killed mid-ingest.

These tests start ``manage.py rqworker`` subprocesses against the test database and the test
Redis, feed them over real HTTP, and kill one with SIGKILL. They are the slowest of the suite.
"""

from __future__ import annotations

import time
from itertools import pairwise

import django_rq
import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from catalog.models import Product, ProductSupplierEvent
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobKindConfig, JobRun
from procurement.models import FeedRun, SupplierItem
from procurement.services.scheduling import supplier_ingests_schedule
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory, make_gtin
from tests.support.feed_server import Reply
from tests.support.jobs import jobs_work
from tests.support.processes import kill_worker_and_horse, wait_for, worker_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PROFILE = {"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}, "meta": "none"}


def csv(rows: range) -> bytes:
    return (
        "sku;ean;price;stock\n" + "".join(f"S{n};{make_gtin(n)};{10 + n % 7}.50;{n % 5}\n" for n in rows)
    ).encode()


def supplier_on(feed_server, name: str, path: str, **feed_kwargs):
    supplier = SupplierFactory(name=name, ingest_enabled=True, ingest_interval_minutes=60)
    feed = SupplierFeedFactory(
        supplier=supplier, source_url=feed_server.url(path),
        format_options={"delimiter": ";", "timeout": 60, "retry_backoff": 0.01}, **feed_kwargs,
    )  # fmt: skip
    FeedMapperFactory(feed=feed, profile=PROFILE)
    return supplier


def test_max_concurrency_holds_with_two_workers(feed_server):
    JobKindConfig.objects.filter(kind="supplier_ingest").update(max_concurrency=1)
    suppliers = []
    for n in range(3):
        feed_server.route(f"/slow-{n}.csv", body=csv(range(n * 10, n * 10 + 10)), delay=1.5)
        suppliers.append(supplier_on(feed_server, f"Slow {n}", f"/slow-{n}.csv"))
    supplier_ingests_schedule()
    keys = [f"supplier_ingest:{s.pk}" for s in suppliers]

    def all_done() -> bool:
        return JobRun.objects.filter(key__in=keys, status="success").count() == 3

    with worker_process("ingest", name="w1"), worker_process("ingest", name="w2"):
        wait_for(all_done, timeout=90, what="three ingests to finish")
    done = list(JobRun.objects.filter(key__in=keys, status="success").order_by("started_at"))
    assert len({run.worker_name for run in done}) >= 1
    for earlier, later in pairwise(done):
        assert earlier.finished_at <= later.started_at, "two ingests ran at the same time"
    assert Product.objects.count() == 30


def test_a_worker_killed_mid_ingest_is_abandoned_rescheduled_and_the_catalog_stays_consistent(
    feed_server, settings
):
    settings.JOBS_HEARTBEAT_GRACE_SECONDS = 3
    JobKindConfig.objects.filter(kind="supplier_ingest").update(retry_attempts=2, retry_backoff_seconds=[0])
    CHUNK_ROWS = settings.INGEST_CHUNK_ROWS
    page_size = CHUNK_ROWS + CHUNK_ROWS // 4  # the first page holds one whole chunk and a part
    first_page, second_page = csv(range(0, page_size)), csv(range(page_size, page_size + 100))
    stall = {"seconds": 60.0}

    def paged(request):
        if request.query.get("page", "1") == "1":
            return first_page
        return Reply(body=second_page, stall=stall["seconds"])

    feed_server.route("/paged.csv", body=paged)
    supplier = supplier_on(
        feed_server, "Paged", "/paged.csv", pagination={"type": "page", "param": "page", "size": page_size}
    )
    supplier_ingests_schedule()
    key = f"supplier_ingest:{supplier.pk}"
    with worker_process("ingest", name="victim") as victim:
        # The first chunk of the first page is written while the second page stalls.
        wait_for(lambda: SupplierItem.objects.count() >= CHUNK_ROWS, timeout=60, what="a chunk written")
        run = JobRun.objects.get(key=key, status="running")
        kill_worker_and_horse(victim)
    time.sleep(settings.JOBS_HEARTBEAT_GRACE_SECONDS + 1.5)
    result = jobs_watchdog()

    run.refresh_from_db()
    assert run.status == "abandoned" and "no heartbeat" in run.error
    feed_run = FeedRun.objects.get(job_run=run)
    assert feed_run.status == "abandoned"
    retry = JobRun.objects.get(pk=result.rescheduled[0])
    assert (retry.key, retry.attempt, retry.status) == (key, 2, "queued")
    # RQ agrees: the killed job is in the failed registry as abandoned.
    redis = django_rq.get_connection("default")
    assert (
        run.rq_job_id
        in FailedJobRegistry("ingest", connection=redis, serializer=JSONSerializer).get_job_ids()
    )
    assert (
        "AbandonedJobError" in Job.fetch(run.rq_job_id, connection=redis, serializer=JSONSerializer).exc_info
    )
    # The catalog is consistent: whole chunks, every offer with its product and its event.
    written = SupplierItem.objects.count()
    assert written % CHUNK_ROWS == 0 and written >= CHUNK_ROWS
    assert ProductSupplierEvent.objects.filter(reason="init").count() == written
    assert Product.objects.count() == written
    # The rescheduled attempt (the supplier answers again) completes the ingest.
    stall["seconds"] = 0
    jobs_work("ingest")
    retry.refresh_from_db()
    assert retry.status == "success", retry.error
    assert SupplierItem.objects.count() == page_size + 100
    assert ProductSupplierEvent.objects.filter(reason="init").count() == page_size + 100
    assert FeedRun.objects.filter(job_run=retry).get().status == "success"
