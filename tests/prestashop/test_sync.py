"""The sync worker drains the update stream into the fake shop over real HTTP, on both backends."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from catalog.models import CatalogUpdateStream, Product
from catalog.services.offers import Reason, active_offers_recompute, products_flags_set
from catalog.services.stream_leases import (
    RowOutcome,
    StreamRetrySchedule,
    stream_rows_claim,
    stream_rows_retry,
    stream_rows_settle,
)
from genesys.models import Notification
from prestashop.fake import running_fake_shop
from prestashop.r_genesys import RGenesysClient
from prestashop.services.sync import SyncPolicy, stream_drain
from prestashop.webservice import WebserviceClient
from procurement.models import SupplierItem
from tests.factories import CategoryFactory, ProductFactory, SupplierItemFactory
from tests.prestashop.conftest import BACKENDS, make_config

pytestmark = pytest.mark.django_db
D = Decimal
Status = CatalogUpdateStream.Status


def in_shop(shop, *, price="100", stock=5, **fields) -> Product:
    """A catalog product the shop knows (a shop product exists for it), with one offer."""
    shop_id = shop.add_product(reference=f"R{len(shop.products())}", price="1", quantity=99, active=True)
    product = ProductFactory(id_ecommerce=shop_id, **fields)
    if price is not None:
        SupplierItemFactory(product=product, price=D(price), stock=stock)
    return product


def recompute(products, reason=Reason.INGEST, *, force=False) -> None:
    active_offers_recompute(product_ids=[p.pk for p in products], reason=reason, force_stream=force)


def set_offer(product, *, price, stock) -> None:
    SupplierItem.objects.filter(product=product).update(price=D(price), stock=stock)


def assert_shop_equals_catalog(shop) -> None:
    """Every product the shop knows shows the catalog's price, stock and active flag."""
    checked = 0
    for product in Product.objects.filter(id_ecommerce__isnull=False).select_related("active_offer"):
        fake = shop.product(product.id_ecommerce)
        offer = getattr(product, "active_offer", None)
        expected_active = product.is_enabled and not product.is_eol and offer is not None
        assert fake.active is expected_active, product
        assert fake.quantity == (offer.stock_sent if offer else 0), product
        if offer is not None:
            assert fake.price == offer.unit_price_sent, product
        checked += 1
    assert checked


def sent_ids(shop) -> Counter:
    """How many times each shop product was sent an update, whatever the backend."""
    sent: Counter = Counter()
    for request in shop.requests:
        if request.method == "POST" and request.path == "/r_genesys/updateproducts" and request.status == 200:
            sent.update(item["id_product"] for item in json.loads(request.body)["items"])
        elif request.method in ("PATCH", "PUT") and request.path.startswith("/api/products/"):
            sent[int(request.path.rsplit("/", 1)[1])] += 1
    return sent


@pytest.fixture
def wide_price_guard(settings):
    """Tests of delivery move prices far; the price-jump guard has its own tests (test_price_guard)."""
    settings.GENESYS_PRICE_CHANGE_LIMIT = Decimal("10")


@pytest.fixture
def client_for():
    clients = []

    def build(shop, backend, **changes):
        config = make_config(shop, backend, **changes)
        client = RGenesysClient(config=config) if backend == "r_genesys" else WebserviceClient(config=config)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_drain_leaves_the_shop_equal_to_the_catalog(fake_shop, client_for, backend, wide_price_guard):
    products = [in_shop(fake_shop, price=str(100 + n), stock=n % 3) for n in range(8)]
    products.append(in_shop(fake_shop, is_eol=True))
    products.append(in_shop(fake_shop, is_enabled=False))
    products.append(in_shop(fake_shop, price=None))  # no offer at all: inactive, stock 0
    waiting = ProductFactory(category=CategoryFactory(auto_import=True, id_ps_category=4))
    SupplierItemFactory(product=waiting)
    recompute([*products, waiting], force=True)  # every state, even unchanged ones
    client = client_for(fake_shop, backend, batch_size=4)

    result = stream_drain(client=client, batch_size=5)

    assert (result.claimed, result.done, result.failed, result.retried) == (11, 11, 0, 0)
    assert result.batches == 3
    assert_shop_equals_catalog(fake_shop)
    # The product the shop does not know yet stays queued for after its import.
    assert CatalogUpdateStream.objects.get(product=waiting).status == Status.PENDING
    others = CatalogUpdateStream.objects.exclude(product=waiting)
    assert set(others.values_list("status", flat=True)) == {"done"}

    # A second round of changes: new prices, a sell-out, a product back from EOL.
    for n, product in enumerate(products[:8]):
        set_offer(product, price=str(200 + n), stock=(n + 1) % 4)
    recompute(products)
    products_flags_set(product_ids=[products[8].pk], is_eol=False, reason=Reason.EOL_REVERTED)
    fake_shop.reset_log()
    result = stream_drain(client=client)
    assert result.done == 9 and result.failed == 0
    assert_shop_equals_catalog(fake_shop)
    assert set(sent_ids(fake_shop).values()) == {1}


def test_rows_are_claimed_by_priority_then_age(fake_shop):
    old, newer, urgent = (in_shop(fake_shop) for _ in range(3))
    now = timezone.now()
    for product, priority, age in ((old, 10, 30), (newer, 10, 10), (urgent, 30, 5)):
        CatalogUpdateStream.objects.create(
            product=product, priority=priority, created_at=now - timedelta(minutes=age), next_attempt_at=now
        )
    CatalogUpdateStream.objects.create(product=ProductFactory(), priority=30)  # unknown to the shop
    claim = stream_rows_claim(limit=2, lease=timedelta(minutes=5), now=now)
    assert [row.product_id for row in claim.rows] == sorted([urgent.pk, old.pk])
    assert {row.attempts for row in claim.rows} == {1}
    assert stream_rows_claim(limit=5, lease=timedelta(minutes=5), now=now).rows[0].product_id == newer.pk
    assert stream_rows_claim(limit=5, lease=timedelta(minutes=5), now=now).rows == []


def test_a_change_during_the_send_is_queued_and_sent_next(fake_shop, client_for, wide_price_guard):
    product = in_shop(fake_shop, price="100", stock=5)
    recompute([product])
    inner = client_for(fake_shop, "r_genesys")

    class ChangingWhileSending:
        backend = inner.backend
        config = inner.config
        calls = 0

        def update_products(self, updates):
            self.calls += 1
            if self.calls == 1:  # the catalog moves on while the first state travels
                set_offer(product, price="150", stock=0)
                recompute([product])
            return inner.update_products(updates)

    result = stream_drain(client=ChangingWhileSending())

    assert (result.batches, result.done) == (2, 2)
    assert fake_shop.product(product.id_ecommerce).price == D("180.00")  # 150 + 20 % margin
    assert fake_shop.product(product.id_ecommerce).quantity == 0
    assert_shop_equals_catalog(fake_shop)


@pytest.mark.parametrize("backend", BACKENDS)
def test_transient_failures_come_back_after_a_backoff(fake_shop, client_for, backend):
    products = [in_shop(fake_shop) for _ in range(4)]
    recompute(products)
    client = client_for(fake_shop, backend, retries=0)
    if backend == "r_genesys":
        fake_shop.add_fault(status=503, path_contains="/r_genesys/updateproducts")
    else:
        fake_shop.add_fault(status=500, method="PATCH", path_contains="/api/products/", times=4)
    now = timezone.now()

    result = stream_drain(client=client, now=now)

    assert (result.claimed, result.retried, result.done, result.failed) == (4, 4, 0, 0)
    rows = list(CatalogUpdateStream.objects.order_by("id"))
    assert {row.status for row in rows} == {Status.PENDING}
    assert {row.attempts for row in rows} == {1}
    assert all("HTTP 50" in row.last_error for row in rows)
    delays = [(row.next_attempt_at - now).total_seconds() for row in rows]
    assert all(15 <= delay <= 30 for delay in delays), delays  # 30 s base, equal jitter
    assert len(set(delays)) > 1

    assert stream_drain(client=client, now=now + timedelta(seconds=5)).claimed == 0  # not due yet
    result = stream_drain(client=client, now=now + timedelta(minutes=1))
    assert (result.claimed, result.done) == (4, 4)
    assert {row.attempts for row in CatalogUpdateStream.objects.all()} == {2}
    assert_shop_equals_catalog(fake_shop)


def test_too_many_transient_failures_park_the_row(fake_shop, client_for):
    product = in_shop(fake_shop)
    recompute([product])
    client = client_for(fake_shop, "r_genesys", retries=0)
    fake_shop.add_fault(status=500, path_contains="updateproducts", times=2)
    policy = SyncPolicy(retry=StreamRetrySchedule(max_attempts=2))
    now = timezone.now()
    assert stream_drain(client=client, policy=policy, now=now).retried == 1
    assert stream_drain(client=client, policy=policy, now=now + timedelta(hours=1)).failed == 1
    row = CatalogUpdateStream.objects.get()
    assert row.status == Status.FAILED and row.last_error.startswith("gave up after 2 attempts")
    assert not Notification.objects.filter(kind="parked_rows").exists()  # 1 is not above 50


def test_parked_rows_above_the_threshold_notify(fake_shop, client_for, settings):
    settings.GENESYS_NOTIFY_PARKED_ABOVE = 0
    product = in_shop(fake_shop)
    recompute([product])
    client = client_for(fake_shop, "r_genesys", retries=0)
    fake_shop.add_fault(status=500, path_contains="updateproducts", times=1)
    policy = SyncPolicy(retry=StreamRetrySchedule(max_attempts=1))
    assert stream_drain(client=client, policy=policy).failed == 1
    [notification] = Notification.objects.filter(kind="parked_rows")
    assert (
        notification.subject == "1 shop update is parked" and notification.object_key == "parked:prestashop"
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_permanent_failures_are_parked_then_retried_from_the_admin(
    fake_shop, client_for, backend, staff_client
):
    good = in_shop(fake_shop)
    gone = in_shop(fake_shop)
    Product.objects.filter(pk=gone.pk).update(id_ecommerce=9999)  # deleted in the shop
    recompute([good, gone])
    client = client_for(fake_shop, backend)

    result = stream_drain(client=client)

    assert (result.done, result.failed) == (1, 1)
    failed = CatalogUpdateStream.objects.get(product=gone)
    assert failed.status == Status.FAILED and "9999" in failed.last_error
    changelist = reverse("admin:catalog_catalogupdatestream_changelist")
    page = staff_client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert "9999" in page  # the shop's error is shown to the operator

    # The operator repairs the link, then retries the parked row from the stream admin.
    replacement = fake_shop.add_product(reference="NEW", price="1")
    Product.objects.filter(pk=gone.pk).update(id_ecommerce=replacement)
    response = staff_client.post(
        changelist, {"action": "retry_failed", "_selected_action": [failed.pk]}, follow=True
    )
    assert "1 failed update back in the queue" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.PENDING, 0)
    assert failed.payload["product"]["id_ecommerce"] == replacement  # the current state, not the old one
    assert stream_drain(client=client).done == 1
    assert_shop_equals_catalog(fake_shop)


def test_retrying_merges_into_the_pending_row_of_the_product(fake_shop):
    product = in_shop(fake_shop)
    now = timezone.now()
    first = CatalogUpdateStream.objects.create(
        product=product, status=Status.FAILED, reasons=["a"], priority=30
    )
    second = CatalogUpdateStream.objects.create(product=product, status=Status.FAILED, reasons=["b"])
    recompute([product])  # a newer change is already queued
    pending = CatalogUpdateStream.objects.get(status=Status.PENDING)

    result = stream_rows_retry(row_ids=[first.pk, second.pk], now=now)

    assert (result.requeued, result.merged) == (0, 2)
    [row] = CatalogUpdateStream.objects.all()
    assert row.pk == pending.pk and row.status == Status.PENDING
    assert row.reasons == ["a", "b", Reason.INGEST] and row.priority == 30
    assert row.next_attempt_at == now


def test_retrying_several_failed_rows_of_a_product_leaves_one_pending_row(fake_shop):
    product = in_shop(fake_shop)
    recompute([product])
    CatalogUpdateStream.objects.update(status=Status.FAILED, attempts=3)
    CatalogUpdateStream.objects.create(product=product, status=Status.FAILED, reasons=["manual"], attempts=1)
    result = stream_rows_retry(row_ids=list(CatalogUpdateStream.objects.values_list("id", flat=True)))
    assert (result.requeued, result.merged) == (1, 1)
    [row] = CatalogUpdateStream.objects.all()
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert row.reasons == [Reason.INGEST, "manual"]
    assert D(row.payload["shop"]["price"]) == D("120")


def test_a_killed_drainer_loses_nothing_and_nothing_is_sent_twice(fake_shop, client_for):
    products = [in_shop(fake_shop, price=str(100 + n)) for n in range(3)]
    recompute(products)
    client = client_for(fake_shop, "r_genesys")
    t0 = timezone.now()
    lease = timedelta(minutes=5)
    abandoned = stream_rows_claim(limit=10, lease=lease, now=t0)  # the drainer dies after the claim
    assert len(abandoned.rows) == 3

    assert stream_drain(client=client, now=t0 + timedelta(minutes=1)).claimed == 0  # leased
    assert sent_ids(fake_shop) == Counter()
    result = stream_drain(client=client, now=t0 + timedelta(minutes=6))  # lease expired: released
    assert result.leases_released == 3 and result.claimed == 0  # back after a short backoff
    row = CatalogUpdateStream.objects.first()
    assert row.status == Status.PENDING and "lease expired" in row.last_error

    result = stream_drain(client=client, now=t0 + timedelta(minutes=10))
    assert (result.claimed, result.done) == (3, 3)
    assert set(sent_ids(fake_shop).values()) == {1}
    assert {row.attempts for row in CatalogUpdateStream.objects.all()} == {2}
    assert_shop_equals_catalog(fake_shop)


def test_a_drainer_waking_up_after_its_lease_changes_nothing_but_requeues_the_state(fake_shop, client_for):
    product = in_shop(fake_shop)
    recompute([product])
    t0 = timezone.now()
    stale = stream_rows_claim(limit=10, lease=timedelta(minutes=5), now=t0)
    client = client_for(fake_shop, "r_genesys")
    assert stream_drain(client=client, now=t0 + timedelta(minutes=10)).leases_released == 1
    assert stream_drain(client=client, now=t0 + timedelta(minutes=20)).done == 1

    # The first drainer finally answers: its claim is gone, so nothing it says is recorded, and
    # the product's current state is queued again in case its late request undid the newer one.
    [row] = stale.rows
    late = stream_rows_settle(
        outcomes=[RowOutcome(row.id, row.product_id, row.attempts, ok=False, error="x", permanent=True)],
        now=t0 + timedelta(minutes=21),
    )
    assert (late.lost, late.failed, late.lost_product_ids) == (1, 0, [product.pk])
    assert CatalogUpdateStream.objects.get(pk=row.id).status == Status.DONE
    resync = CatalogUpdateStream.objects.get(status=Status.PENDING)
    assert resync.reasons == [Reason.RESYNC]
    assert stream_drain(client=client, now=t0 + timedelta(minutes=22)).done == 1


def test_an_expired_row_merges_into_a_newer_pending_row(fake_shop, client_for, wide_price_guard):
    product = in_shop(fake_shop, price="100")
    recompute([product])
    t0 = timezone.now()
    [claimed] = stream_rows_claim(limit=10, lease=timedelta(minutes=5), now=t0).rows
    set_offer(product, price="200", stock=1)
    recompute([product], reason=Reason.MARGIN_CHANGED)  # arrives while the first row is in flight
    client = client_for(fake_shop, "r_genesys")
    assert stream_drain(client=client, now=t0 + timedelta(minutes=1)).claimed == 0  # one at a time

    result = stream_drain(client=client, now=t0 + timedelta(minutes=10))

    assert result.leases_released == 1
    [row] = CatalogUpdateStream.objects.all()
    assert row.pk != claimed.id and row.status == Status.PENDING
    assert row.reasons == [Reason.INGEST, Reason.MARGIN_CHANGED] and row.attempts == 1
    result = stream_drain(client=client, now=t0 + timedelta(minutes=20))
    assert result.done == 1
    assert fake_shop.product(product.id_ecommerce).price == D("240.00")
    assert set(sent_ids(fake_shop).values()) == {1}


def test_a_refused_key_stops_the_drain_without_parking_rows(fake_shop, client_for):
    product = in_shop(fake_shop)
    recompute([product])
    client = client_for(fake_shop, "r_genesys", api_key="WRONGKEY0123456789ABCDEFGHIJKLMNO")
    result = stream_drain(client=client)
    assert result.stopped == "shop_refused" and "401" in result.error
    assert CatalogUpdateStream.objects.get().status == Status.PENDING
    [notification] = Notification.objects.filter(kind="shop_refused")
    assert "401" in notification.body and notification.object_key == "shop:prestashop"
    assert "WRONGKEY" not in notification.body  # the key itself is never told


def test_a_payload_without_shop_state_is_parked(fake_shop, client_for):
    product = in_shop(fake_shop)
    CatalogUpdateStream.objects.create(product=product, payload={"product": {}})
    assert stream_drain(client=client_for(fake_shop, "r_genesys")).failed == 1
    assert "no shop state" in CatalogUpdateStream.objects.get().last_error


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_concurrent_drainers_send_each_row_once(backend):
    with running_fake_shop(latency_ms=2) as shop:
        products = [in_shop(shop, price=str(100 + n), stock=n % 4) for n in range(120)]
        recompute(products)
        shop.reset_log()
        results, errors = [], []
        barrier = threading.Barrier(2)

        def drainer():
            config = make_config(shop, backend, batch_size=5, concurrency=4)
            client_class = RGenesysClient if backend == "r_genesys" else WebserviceClient
            try:
                with client_class(config=config) as client:
                    barrier.wait()
                    results.append(stream_drain(client=client, batch_size=10))
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=drainer) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert not errors
        assert sum(r.done for r in results) == 120 and all(r.done for r in results)  # both worked
        assert set(sent_ids(shop).values()) == {1} and len(sent_ids(shop)) == 120
        assert set(CatalogUpdateStream.objects.values_list("status", flat=True)) == {"done"}
        assert_shop_equals_catalog(shop)


def test_the_command_drains_once(fake_shop, shop_settings):
    products = [in_shop(fake_shop) for _ in range(3)]
    recompute(products)
    out = StringIO()
    call_command("prestashop_sync", "--once", stdout=out)
    assert "3 rows in 1 batches" in out.getvalue() and "3 done" in out.getvalue()
    assert_shop_equals_catalog(fake_shop)
