"""A worker SIGKILLed anywhere between a feed and the shop: recovery reaches a clean run's state.

Each case plays the same story twice on the same machine: a supplier whose catalog is in the
shop publishes a new price list (every price up 5.00, some stock changes, some items gone, a
few new ones). The clean run lets a real worker do it. The faulty run arms one failpoint
(``genesys.failpoints``) in a real ``rqworker`` process, which SIGKILLs itself and its parent
at that exact step; then only the production recovery paths run (the watchdog, retries, the
periodic tick with its sweep and sync) on a fresh worker. Both runs end by comparing every
offer, every election, every price sent and the fake shop's products, field by field.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from catalog.models import CatalogUpdateStream, DirtyProduct, Product
from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.scheduler import periodic_tick
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobKindConfig, JobRun
from prestashop.fake import DEFAULT_TEST_KEY, running_fake_shop
from procurement.models import FeedMapper, FeedRun, Supplier, SupplierFeed, SupplierItem
from procurement.services.reset import catalog_reset
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory, make_gtin
from tests.support.processes import wait_for, worker_process
from tests.support.states import catalog_state, shop_state

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal

ROWS = 900  # old price list
GONE = range(0, 40)  # items the new list no longer has: their stock goes to 0
NEW = range(ROWS, ROWS + 25)  # items only the new list has
IN_SHOP = range(0, ROWS, 3)  # a third of the catalog is in the shop
CHUNK = 200  # ingest rows per transaction in the workers: the feed takes 5 chunks
RECOMPUTE_CHUNK = 150  # products per catalog transaction: the drain takes several chunks
PROFILE = {
    "fields": {"sku": "sku", "gtin": "ean", "name": "name", "price": "price", "stock": "stock"},
    "meta": "none",
}
QUEUES = ("urgent", "high", "sync", "catalog", "ingest", "maintenance", "default", "low")
WIDE_PRICE_GUARD = "10"


def price_list(rows, *, rise: str = "0") -> bytes:
    lines = ["sku;ean;name;price;stock"]
    for n in rows:
        price = D(10 + n % 37) + D("0.50") + D(rise)
        stock = (n % 5) if rise == "0" else ((n + 1) % 4)
        lines.append(f"S{n};{make_gtin(n)};Item {n};{price};{stock}")
    return ("\n".join(lines) + "\n").encode()


OLD = price_list(range(ROWS))
NEW_LIST = price_list([n for n in range(ROWS + len(NEW)) if n not in GONE], rise="5.00")


class Story:
    """One supplier, its feed over HTTP, its catalog in a fake shop; played by real workers."""

    def __init__(self, feed_server, shop) -> None:
        self.feed_server, self.shop = feed_server, shop
        self.feed_server.route("/list.csv", body=OLD)
        self.supplier = SupplierFactory(name="Distrilusa", ingest_enabled=False)
        feed = SupplierFeedFactory(
            supplier=self.supplier, source_url=feed_server.url("/list.csv"),
            format_options={"delimiter": ";", "timeout": 60, "retry_backoff": 0.01},
        )  # fmt: skip
        FeedMapperFactory(feed=feed, profile=PROFILE)
        self.key = f"supplier_ingest:{self.supplier.pk}"
        kinds = ["supplier_ingest", "catalog_sync", "catalog_recompute"]
        JobKindConfig.objects.filter(kind__in=kinds).update(
            retry_attempts=3, retry_backoff_seconds=[0], schedule="every 1s"
        )
        JobKindConfig.objects.filter(kind="supplier_ingest").update(schedule="")

    def env(self, failpoint: str = "") -> dict[str, str]:
        return {
            "PRESTASHOP_URL": self.shop.url,
            "PRESTASHOP_API_KEY": DEFAULT_TEST_KEY,
            "PRESTASHOP_BACKEND": "webservice",
            "INGEST_CHUNK_ROWS": str(CHUNK),
            "CATALOG_RECOMPUTE_CHUNK": str(RECOMPUTE_CHUNK),
            "GENESYS_FAILPOINTS": failpoint,
            # The new list raises cheap items by up to 48 %: this story is about crashes, not
            # about the price-jump guard (tests/catalog/test_price_approvals.py), so let it pass.
            "GENESYS_PRICE_CHANGE_LIMIT": WIDE_PRICE_GUARD,
        }

    def first_ingest_in_the_shop(self) -> None:
        """The old list ingested and a third of its products in the shop, in step."""
        self.ingest_with_a_healthy_worker()
        for n in IN_SHOP:
            shop_id = self.shop.add_product(reference=f"S{n}", price="1", quantity=0, active=False)
            Product.objects.filter(gtin=make_gtin(n).zfill(14)).update(id_ecommerce=shop_id)
        product_ids = list(Product.objects.filter(id_ecommerce__isnull=False).values_list("id", flat=True))
        from catalog.services.offers import Reason, active_offers_recompute

        active_offers_recompute(product_ids=product_ids, reason=Reason.RESYNC, force_stream=True)
        self.settle(name="settle-first")

    def ingest_with_a_healthy_worker(self) -> None:
        job_enqueue(kind="supplier_ingest", params={"supplier_id": self.supplier.pk}, triggered_by="test")
        with worker_process(*QUEUES, name="healthy-ingest", extra_env=self.env()):
            wait_for(self.ingest_finished, timeout=180, what="the ingest to finish")

    def ingest_finished(self) -> bool:
        return not JobRun.objects.filter(key=self.key, status__in=["queued", "running"]).exists()

    def publish_the_new_list(self) -> None:
        self.feed_server.route("/list.csv", body=NEW_LIST)

    def settle(self, *, name: str) -> None:
        """Production's recovery, as it runs: the tick (due kinds, the sweep, the sync) and the
        watchdog, with a healthy worker, until nothing is queued, running, dirty or unsent."""

        def settled() -> bool:
            periodic_tick()
            jobs_watchdog()
            return (
                not JobRun.objects.filter(status__in=["queued", "running"]).exists()
                and not DirtyProduct.objects.exists()
                and not CatalogUpdateStream.objects.filter(
                    status__in=["pending", "processing"], product__id_ecommerce__isnull=False
                ).exists()
            )

        with worker_process(*QUEUES, name=name, extra_env=self.env()):
            wait_for(settled, timeout=240, what="the catalog and the shop to settle")


@pytest.fixture
def story_settings(settings):
    settings.JOBS_HEARTBEAT_GRACE_SECONDS = 3  # the watchdog in this process spots the dead fast
    settings.INGEST_CHUNK_ROWS = CHUNK
    settings.CATALOG_RECOMPUTE_CHUNK = RECOMPUTE_CHUNK
    settings.GENESYS_PRICE_CHANGE_LIMIT = D(WIDE_PRICE_GUARD)
    return settings


@pytest.fixture
def shop_factory(story_settings) -> Iterator:
    with ExitStack() as stack:

        def start():
            shop = stack.enter_context(running_fake_shop())
            story_settings.PRESTASHOP_URL = shop.url
            story_settings.PRESTASHOP_API_KEY = DEFAULT_TEST_KEY
            story_settings.PRESTASHOP_BACKEND = "webservice"
            return shop

        yield start


def play(feed_server, shop, *, failpoint: str, redis_conn) -> tuple[dict, dict]:
    story = Story(feed_server, shop)
    story.first_ingest_in_the_shop()
    story.publish_the_new_list()
    job_enqueue(kind="supplier_ingest", params={"supplier_id": story.supplier.pk}, triggered_by="test")
    if failpoint:
        with worker_process(*QUEUES, name="victim", extra_env=story.env(failpoint)) as victim:
            if failpoint.startswith("sync."):
                wait_for(story.ingest_finished, timeout=180, what="the ingest before the sync")
                job_enqueue(kind="catalog_sync", triggered_by="test")
            wait_for(lambda: victim.poll() is not None, timeout=180, what=f"the worker to die at {failpoint}")
            assert victim.returncode == -9, f"the worker was not killed at {failpoint}"
        time.sleep(django_settings.JOBS_HEARTBEAT_GRACE_SECONDS + 1)  # its heartbeat is now stale
    story.settle(name="recovery")
    return catalog_state(), shop_state(shop)


_clean: dict[str, tuple[dict, dict]] = {}


def clean_run(feed_server, shop_factory, redis_conn) -> tuple[dict, dict]:
    """What the story ends with when nothing fails (played once per test process)."""
    if "state" not in _clean:
        _clean["state"] = play(feed_server, shop_factory(), failpoint="", redis_conn=redis_conn)
        wipe(redis_conn)
    return _clean["state"]


def wipe(redis_conn) -> None:
    catalog_reset()
    JobRun.objects.all().delete()
    FeedRun.objects.all().delete()
    FeedMapper.objects.all().delete()
    SupplierFeed.objects.all().delete()
    Supplier.objects.all().delete()
    redis_conn.flushdb()


KILL_POINTS = [
    "ingest.chunk_committed:2",  # between ingest chunks
    "ingest.unseen_batch_committed",  # while zeroing the items the list no longer has
    "ingest.before_catalog",  # every offer written, the catalog step not started
    "catalog.drain_chunk_computed:2",  # inside a recompute chunk, before its commit
    "catalog.drain_chunk_committed:2",  # between recompute chunks
    "sync.batch_sent",  # the shop has a batch, the stream does not know it yet
]


@pytest.mark.parametrize("failpoint", KILL_POINTS)
def test_a_worker_killed_at_any_step_ends_where_a_clean_run_ends(
    failpoint, feed_server, shop_factory, redis_conn
):
    expected_catalog, expected_shop = clean_run(feed_server, shop_factory, redis_conn)
    # The clean run itself is right: every election follows the new list, the shop follows it.
    assert expected_catalog["waiting"] == {"dirty": 0, "stream": 0}
    offers = expected_catalog["offers"]
    assert {sku for sku, (_, _, is_listed) in offers.items() if not is_listed} == {f"S{n}" for n in GONE}
    assert all(cost == offers[sku][0] for sku, cost, _, _ in expected_catalog["active"].values())
    listed = [cost for sku, cost, _, _ in expected_catalog["active"].values() if int(sku[1:]) not in GONE]
    assert min(listed) == D("15.5000")
    assert {ref: qty for ref, (_, qty, _) in expected_shop.items()} == {
        f"S{n}": offers[f"S{n}"][1] for n in IN_SHOP
    }

    catalog, shop = play(feed_server, shop_factory(), failpoint=failpoint, redis_conn=redis_conn)

    assert catalog == expected_catalog
    assert shop == expected_shop
    runs = JobRun.objects.filter(kind="supplier_ingest").order_by("id")
    if not failpoint.startswith("sync."):
        assert "abandoned" in set(runs.values_list("status", flat=True))


def play_first_ingest(feed_server, shop, *, failpoint: str) -> dict:
    story = Story(feed_server, shop)
    job_enqueue(kind="supplier_ingest", params={"supplier_id": story.supplier.pk}, triggered_by="test")
    if failpoint:
        with worker_process(*QUEUES, name="victim-first", extra_env=story.env(failpoint)) as victim:
            wait_for(lambda: victim.poll() is not None, timeout=180, what=f"the worker to die at {failpoint}")
            assert victim.returncode == -9, f"the worker was not killed at {failpoint}"
        if failpoint.startswith("ingest.chunk_committed"):
            assert SupplierItem.objects.count() == 2 * CHUNK  # two chunks made it, with their marks
        time.sleep(django_settings.JOBS_HEARTBEAT_GRACE_SECONDS + 1)
    story.settle(name="recovery-first")
    return catalog_state()


@pytest.mark.parametrize("failpoint", ["ingest.chunk_committed:2", "catalog.drain_chunk_committed:1"])
def test_a_first_ingest_killed_midway_leaves_no_product_without_its_offer(
    failpoint, feed_server, shop_factory, redis_conn
):
    expected = play_first_ingest(feed_server, shop_factory(), failpoint="")
    wipe(redis_conn)
    assert len(expected["active"]) == ROWS  # every product has its elected offer

    assert play_first_ingest(feed_server, shop_factory(), failpoint=failpoint) == expected
