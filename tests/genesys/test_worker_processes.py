"""Real RQ worker processes: max concurrency across workers, and a worker killed mid-ingest.

These tests start ``manage.py rqworker`` subprocesses against the test database and the test
Redis, feed them over real HTTP, and kill one with SIGKILL. They are the slowest of the suite.
"""

from __future__ import annotations

import time
from datetime import timedelta
from itertools import pairwise

import django_rq
import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from catalog.models import Product, ProductSupplierEvent
from genesys.jobs.requests import job_run_cancel
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobKindConfig, JobRun
from procurement.models import FeedRun, SupplierItem
from procurement.services.scheduling import supplier_ingest_now, supplier_ingests_schedule
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


def test_an_ingest_cancelled_mid_feed_in_a_worker_ends_cancelled_with_whole_chunks_and_no_stock_zeroed(
    feed_server,
):
    """The cooperative stop: the worker finishes the chunk it is writing, commits it, and stops
    before the missing-offer step; the supplier's next ingest is scheduled as after any end."""
    # The body is spooled whole before the first row is parsed: what must outlast the test's
    # reaction is the writing, so the feed has far more chunks than the cancel needs.
    chunk, pieces, piece_rows = 200, 30, 2000
    old_rows = "".join(f"OLD{n};{make_gtin(90_000 + n)};20.00;7\n" for n in range(40))
    state = {"slow": False}

    def slow_rows():
        yield b"sku;ean;price;stock\n"
        for piece in range(pieces):
            rows = range(piece * piece_rows, (piece + 1) * piece_rows)
            yield "".join(f"S{n};{make_gtin(n)};{10 + n % 7}.50;{1 + n % 5}\n" for n in rows).encode()
            time.sleep(0.05)

    def feed(request):
        if not state["slow"]:
            return "sku;ean;price;stock\n" + old_rows
        return Reply(body=slow_rows())

    feed_server.route("/slow.csv", body=feed)
    supplier = supplier_on(feed_server, "Slow", "/slow.csv")
    feed_model = supplier.feeds.get()
    feed_model.unseen_min_ratio = 0  # a complete read would zero every offer it did not list
    feed_model.save(update_fields=["unseen_min_ratio"])
    key = f"supplier_ingest:{supplier.pk}"
    supplier_ingests_schedule()
    jobs_work("ingest")  # the first ingest: 40 offers in stock
    assert SupplierItem.objects.filter(sku__startswith="OLD", stock=7).count() == 40

    state["slow"] = True
    run = supplier_ingest_now(supplier_id=supplier.pk, triggered_by="test")
    assert run.priority == "urgent"
    with worker_process("urgent", "ingest", name="cancel", extra_env={"INGEST_CHUNK_ROWS": str(chunk)}):
        wait_for(
            lambda: SupplierItem.objects.filter(sku__startswith="S").count() >= 2 * chunk,
            timeout=60,
            what="two chunks written",
        )
        asked = job_run_cancel(run_id=run.pk, by="api:alice")
        assert (asked.status, asked.cancel_requested_by) == ("running", "api:alice")
        wait_for(
            lambda: JobRun.objects.filter(pk=run.pk, status="cancelled").exists(),
            timeout=60,
            what="cancelled",
        )
    run.refresh_from_db()
    assert run.summary["cancelled_by"] == "api:alice" and not run.error
    feed_run = FeedRun.objects.get(job_run=run)
    assert feed_run.status == "cancelled" and feed_run.offers_zeroed == 0
    assert feed_run.unseen_handling == ""  # the missing-offer step never ran
    written = SupplierItem.objects.filter(sku__startswith="S").count()
    assert written % chunk == 0 and 2 * chunk <= written < pieces * piece_rows
    assert feed_run.rows_valid == written
    assert (
        ProductSupplierEvent.objects.filter(reason="init", supplier_item__sku__startswith="S").count()
        == written
    )
    assert SupplierItem.objects.filter(sku__startswith="OLD", stock=7).count() == 40  # nothing zeroed
    # Not retried; the supplier's schedule carries on from this end.
    assert not JobRun.objects.filter(key=key, attempt__gt=1).exists()
    following = JobRun.objects.get(key=key, status="queued")
    assert following.scheduled_for >= run.finished_at + timedelta(minutes=59)
    supplier.refresh_from_db()
    assert supplier.ingest_next_run_at == following.scheduled_for
