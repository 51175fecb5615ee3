"""Hostile feeds and servers against a real worker: contained, and the rest of the system goes on.

A supplier's server that trickles its feed a byte at a time must cost one failed run at the
feed's deadline, never a worker held for hours nor a zeroed catalog; a feed full of NUL bytes and
other control characters must be ingested with warnings. Each case ends by comparing the catalog
with what a clean run produces.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from catalog.models import Product, ProductSupplierEvent
from genesys.jobs.enqueue import job_enqueue
from genesys.models import JobKindConfig, JobRun
from procurement.models import FeedRun, Supplier, SupplierItem
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory, make_gtin
from tests.support.processes import wait_for, worker_process

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal

PROFILE = {
    "fields": {
        "sku": "sku",
        "gtin": "ean",
        "brand": "brand",
        "name": "name",
        "price": "price",
        "stock": "stock",
    },
    "meta": ["colour"],
}
QUEUES = ("urgent", "high", "catalog", "ingest", "maintenance", "default", "low")
MAX_SECONDS = 2


def price_list(rows: range, *, rise: str = "0", dirt: str = "") -> bytes:
    """A CSV price list; ``dirt`` is slipped into the text fields (and the SKUs) of every row."""
    lines = ["sku;ean;brand;name;price;stock;colour"]
    for n in rows:
        price = D(10 + n % 37) + D("0.50") + D(rise)
        lines.append(
            f"S{dirt}{n};{make_gtin(n)};Br{dirt}and {n % 7};Item{dirt} {n};{price};{n % 5 + 1};bl{dirt}ack"
        )
    return ("\n".join(lines) + "\n").encode()


def supplier_on(feed_server, name: str, path: str) -> Supplier:
    supplier = SupplierFactory(name=name, ingest_enabled=False)
    feed = SupplierFeedFactory(
        supplier=supplier,
        source_url=feed_server.url(path),
        format_options={"delimiter": ";", "timeout": 60, "retry_backoff": 0.01, "max_seconds": MAX_SECONDS},
    )
    FeedMapperFactory(feed=feed, profile=PROFILE)
    return supplier


def ingest_all(*suppliers: Supplier, timeout: float = 180) -> None:
    """Queue the suppliers' ingests in this order; one worker runs them one after the other."""
    for supplier in suppliers:
        job_enqueue(kind="supplier_ingest", params={"supplier_id": supplier.pk}, triggered_by="test")
    keys = [f"supplier_ingest:{s.pk}" for s in suppliers]

    def finished() -> bool:
        return not JobRun.objects.filter(key__in=keys, status__in=["queued", "running"]).exists()

    with worker_process(*QUEUES, name="hostile"):
        wait_for(finished, timeout=timeout, what="the ingests to finish")


def offers_of(supplier: Supplier) -> list[tuple]:
    return list(
        SupplierItem.objects.filter(supplier=supplier)
        .order_by("sku")
        .values_list("sku", "price", "stock", "product__name", "product__brand__name")
    )


@pytest.fixture(autouse=True)
def _no_retries():
    JobKindConfig.objects.filter(kind="supplier_ingest").update(retry_attempts=0, schedule="")


def test_a_trickling_server_costs_one_failed_run_at_its_deadline_and_holds_no_worker(feed_server):
    hostile = supplier_on(feed_server, "Trickle", "/trickle.csv")
    honest = supplier_on(feed_server, "Honest", "/honest.csv")
    feed_server.route("/trickle.csv", body=price_list(range(0, 200)))
    feed_server.route("/honest.csv", body=price_list(range(200, 300)))
    ingest_all(hostile, honest)
    clean = offers_of(hostile)
    assert len(clean) == 200 and all(stock > 0 for _sku, _price, stock, *_ in clean)

    # The hostile server now sends its (changed) list a byte every half second: about 2 hours.
    feed_server.route("/trickle.csv", body=price_list(range(0, 200), rise="1.00"), trickle=0.5)
    feed_server.route("/honest.csv", body=price_list(range(200, 300), rise="2.00"))
    started = time.monotonic()
    ingest_all(hostile, honest)  # one worker: the honest ingest waits for the hostile one
    elapsed = time.monotonic() - started

    run = FeedRun.objects.filter(feed__supplier=hostile).latest("id")
    assert run.status == FeedRun.Status.FAILED
    assert run.error == (
        f"{feed_server.url('/trickle.csv')}: the download took longer than {MAX_SECONDS} s "
        "(format_options.max_seconds)."
    )
    assert (run.finished_at - run.started_at).total_seconds() < MAX_SECONDS + 30  # busy machines
    assert run.offers_zeroed == 0
    # The hostile supplier's catalog is exactly what its last clean run left.
    assert offers_of(hostile) == clean
    assert not ProductSupplierEvent.objects.filter(reason="feed_missing").exists()
    # The worker was free again: the honest supplier's new prices are in, in minutes not hours.
    assert FeedRun.objects.filter(feed__supplier=honest).latest("id").status == FeedRun.Status.SUCCESS
    assert SupplierItem.objects.get(sku="S200").price == D("27.5000")  # 10 + 200 % 37 + 0.50 + 2.00
    assert elapsed < 150


def test_a_feed_full_of_control_characters_is_ingested_as_its_clean_twin(feed_server):
    supplier = supplier_on(feed_server, "Dirty", "/dirty.csv")
    feed_server.route("/dirty.csv", body=price_list(range(0, 150), dirt="\x00\x1f"))
    ingest_all(supplier)
    run = FeedRun.objects.filter(feed__supplier=supplier).latest("id")
    assert run.status == FeedRun.Status.SUCCESS, run.error  # row warnings, not a failure
    assert (run.rows_valid, run.rows_rejected, run.warnings_count) == (150, 0, 150 * 4)
    assert "line 2: sku: control characters removed" in run.warnings
    dirty = offers_of(supplier)
    assert not any("\x00" in str(value) or "\x1f" in str(value) for offer in dirty for value in offer)
    assert Product.objects.filter(name="Item 7", brand__name="Brand 0").exists()

    # The clean twin of the same list finds nothing to change: the stored rows are the clean ones.
    feed_server.route("/dirty.csv", body=price_list(range(0, 150)))
    events = ProductSupplierEvent.objects.count()
    ingest_all(supplier)
    twin = FeedRun.objects.filter(feed__supplier=supplier).latest("id")
    assert twin.status == FeedRun.Status.SUCCESS, (twin.error, twin.warnings)
    assert (twin.offers_unchanged, twin.offers_changed, twin.offers_created) == (150, 0, 0)
    assert ProductSupplierEvent.objects.count() == events
    assert offers_of(supplier) == dirty
