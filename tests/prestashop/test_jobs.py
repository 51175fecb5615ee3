"""The shop's job kinds, run through RQ by a real worker against the fake shop over HTTP."""

from decimal import Decimal

import pytest

from catalog.models import CatalogUpdateStream, Product
from catalog.services.offers import Reason, active_offers_recompute
from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.scheduler import periodic_tick
from genesys.models import JobKind, JobKindConfig, JobRun
from prestashop.models import PrestashopCategory
from tests.factories import CategoryFactory, ProductFactory, SupplierItemFactory
from tests.support.jobs import jobs_work

pytestmark = pytest.mark.django_db


def shop_product(fake_shop, *, price="100", stock=5) -> Product:
    shop_id = fake_shop.add_product(
        reference=f"R{len(fake_shop.products())}", price="1", quantity=0, active=True
    )
    product = ProductFactory(id_ecommerce=shop_id)
    SupplierItemFactory(product=product, price=Decimal(price), stock=stock)
    return product


def queue(kind, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return job_enqueue(kind=kind, triggered_by="test")


def test_the_sync_job_drains_the_stream_into_the_shop(
    shop_settings, fake_shop, django_capture_on_commit_callbacks
):
    products = [shop_product(fake_shop, price=str(100 + n), stock=n) for n in range(3)]
    active_offers_recompute(product_ids=[p.pk for p in products], reason=Reason.INGEST)
    run = queue(JobKind.CATALOG_SYNC, django_capture_on_commit_callbacks)
    jobs_work("sync")
    run.refresh_from_db()
    assert run.status in {"success", "warning"}, run.error
    assert run.summary["done"] == 3
    for product in products:
        state = fake_shop.product(product.id_ecommerce)
        assert (Decimal(state.price), state.quantity, state.active) == (
            product.active_offer.unit_price_sent,
            product.active_offer.stock_sent,
            True,
        )
    assert not CatalogUpdateStream.objects.filter(status="pending").exists()


def test_the_tick_starts_the_sync_only_when_something_is_due(shop_settings, fake_shop):
    JobKindConfig.objects.exclude(kind="catalog_sync").update(schedule="")
    periodic_tick()
    assert not JobRun.objects.filter(kind="catalog_sync").exists()
    product = shop_product(fake_shop)
    active_offers_recompute(product_ids=[product.pk], reason=Reason.INGEST)
    periodic_tick()
    assert JobRun.objects.filter(kind="catalog_sync", status="queued").count() == 1


def test_a_refused_key_fails_the_sync_job_and_schedules_a_retry(
    shop_settings, fake_shop, settings, django_capture_on_commit_callbacks
):
    product = shop_product(fake_shop)
    active_offers_recompute(product_ids=[product.pk], reason=Reason.INGEST)
    settings.PRESTASHOP_API_KEY = "W" * 32
    queue(JobKind.CATALOG_SYNC, django_capture_on_commit_callbacks)
    jobs_work("sync")
    failed, retry = JobRun.objects.filter(kind="catalog_sync").order_by("id")
    assert failed.status == "failed" and "ShopRefused" in failed.error
    assert (retry.status, retry.attempt) == ("queued", 2)
    assert CatalogUpdateStream.objects.get(product=product).status == "pending"  # nothing parked


def test_without_a_shop_the_shop_jobs_have_nothing_to_do_and_skip(
    settings, django_capture_on_commit_callbacks
):
    settings.PRESTASHOP_URL = ""
    run = queue(JobKind.PRESTASHOP_SYNC_CATEGORIES, django_capture_on_commit_callbacks)
    jobs_work("sync")
    run.refresh_from_db()
    assert run.status == "skipped" and "PRESTASHOP_URL" in run.summary["skipped"]


def test_the_category_sync_job_copies_the_shop_tree(shop_settings, django_capture_on_commit_callbacks):
    run = queue(JobKind.PRESTASHOP_SYNC_CATEGORIES, django_capture_on_commit_callbacks)
    jobs_work("sync")
    run.refresh_from_db()
    assert run.status == "success", run.error
    assert run.summary["categories"] == PrestashopCategory.objects.count() > 5


def test_the_auto_import_job_creates_disabled_products(
    shop_settings, fake_shop, django_capture_on_commit_callbacks
):
    queue(JobKind.PRESTASHOP_SYNC_CATEGORIES, django_capture_on_commit_callbacks)
    jobs_work("sync")
    shop_category = PrestashopCategory.objects.filter(is_root=False, depth__gte=2).first()
    category = CategoryFactory(id_ps_category=shop_category.pk, auto_import=True)
    product = ProductFactory(category=category, id_ecommerce=None)
    SupplierItemFactory(product=product, price=Decimal("50"), stock=4)
    active_offers_recompute(product_ids=[product.pk], reason=Reason.INGEST)
    run = queue(JobKind.PRODUCT_AUTO_IMPORT, django_capture_on_commit_callbacks)
    jobs_work("sync")
    run.refresh_from_db()
    product.refresh_from_db()
    assert run.summary["created"] == 1, run.summary
    assert product.id_ecommerce and fake_shop.product(product.id_ecommerce).active is False


def test_a_sync_run_the_watchdog_abandons_releases_its_leased_rows_at_once(
    shop_settings, fake_shop, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from catalog.services.stream_leases import stream_rows_claim
    from genesys.jobs.watchdog import jobs_watchdog
    from tests.factories import JobRunFactory

    product = shop_product(fake_shop)
    active_offers_recompute(product_ids=[product.pk], reason=Reason.INGEST)
    assert len(stream_rows_claim(limit=10, lease=timedelta(minutes=5)).rows) == 1  # then the drain died
    long_ago = timezone.now() - timedelta(seconds=settings.JOBS_HEARTBEAT_GRACE_SECONDS + 60)
    JobRunFactory(kind=JobKind.CATALOG_SYNC, key="catalog_sync", status="running",
                  started_at=long_ago, heartbeat_at=long_ago)  # fmt: skip

    jobs_watchdog()

    row = CatalogUpdateStream.objects.get(product=product)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at <= timezone.now()  # due now, not after the 5-minute lease
    assert "died" in row.last_error
