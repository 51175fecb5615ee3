"""End of life: no stock for EOL_DAYS retires a product; stock brings it back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import CatalogUpdateStream, Product, ProductSupplierEvent
from catalog.services.eol import products_mark_eol, products_revert_eol
from catalog.services.offers import Reason, active_offers_recompute
from tests.factories import ProductFactory, ProductSupplierEventFactory, SupplierItemFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def product(age_days, **kwargs):
    return ProductFactory(created_at=NOW - timedelta(days=age_days), **kwargs)


def stock_event(product, *, days_ago, stock=3):
    item = SupplierItemFactory(product=product, stock=0)
    return ProductSupplierEventFactory(
        supplier_item=item, product=product, new_stock=stock, created_at=NOW - timedelta(days=days_ago)
    )


def eol_ids():
    return set(Product.objects.filter(is_eol=True).values_list("id", flat=True))


@pytest.mark.parametrize(("age", "marked"), [(179, False), (180, False), (181, True)])
def test_only_products_older_than_eol_days_are_considered(age, marked):
    p = product(age)
    products_mark_eol(now=NOW, eol_days=180)
    assert (p.pk in eol_ids()) is marked


def test_a_product_that_never_had_stock_is_marked():
    never = product(400)
    ProductSupplierEventFactory(
        supplier_item=SupplierItemFactory(product=never, stock=0),
        product=never,
        new_stock=0,
        created_at=NOW - timedelta(days=10),
    )
    products_mark_eol(now=NOW, eol_days=180)
    assert never.pk in eol_ids()


@pytest.mark.parametrize(("days_ago", "marked"), [(179, False), (180, False), (181, True), (365, True)])
def test_the_last_time_in_stock_decides_at_the_cutoff(days_ago, marked):
    p = product(400)
    stock_event(p, days_ago=days_ago)
    products_mark_eol(now=NOW, eol_days=180)
    assert (p.pk in eol_ids()) is marked


def test_a_product_in_stock_right_now_is_never_marked_even_without_recent_events():
    p = product(400)
    stock_event(p, days_ago=300)
    SupplierItemFactory(product=p, stock=5)
    products_mark_eol(now=NOW, eol_days=180)
    assert p.pk not in eol_ids()


def test_marking_writes_events_and_queues_deactivation_for_shop_products():
    in_shop = product(400, id_ecommerce=77)
    item = SupplierItemFactory(product=in_shop, stock=0, price=Decimal("50"))
    active_offers_recompute(product_ids=[in_shop.pk], reason=Reason.INGEST)
    CatalogUpdateStream.objects.update(status="done")
    not_in_shop = product(400)
    result = products_mark_eol(now=NOW, eol_days=180)
    assert set(result.flagged_product_ids) == {in_shop.pk, not_in_shop.pk}
    events = ProductSupplierEvent.objects.filter(reason="eol_marked")
    assert set(events.values_list("product_id", flat=True)) == {in_shop.pk, not_in_shop.pk}
    row = CatalogUpdateStream.objects.get(status="pending")
    assert row.product_id == in_shop.pk
    assert row.reasons == [Reason.EOL_MARKED]
    assert row.payload["product"]["is_eol"] is True
    assert row.payload["shop"]["active"] is False
    assert row.payload["active_offer"]["id_supplier_item"] == item.pk


def test_marking_twice_changes_nothing_the_second_time():
    product(400, id_ecommerce=5)
    products_mark_eol(now=NOW, eol_days=180)
    again = products_mark_eol(now=NOW, eol_days=180)
    assert again.flagged_product_ids == []
    assert ProductSupplierEvent.objects.filter(reason="eol_marked").count() == 1


def test_reversal_clears_the_flag_writes_an_event_and_queues_the_reactivation():
    p = product(400, id_ecommerce=9, is_eol=True)
    SupplierItemFactory(product=p, stock=4, price=Decimal("20"))
    result = products_revert_eol(product_ids=[p.pk])
    p.refresh_from_db()
    assert p.is_eol is False
    assert result.flagged_product_ids == [p.pk]
    assert ProductSupplierEvent.objects.filter(product=p, reason="eol_reverted").count() == 1
    row = CatalogUpdateStream.objects.get(product=p, status="pending")
    assert row.reasons == [Reason.EOL_REVERTED]
    assert row.payload["shop"] == {"active": True, "price": "24.00", "quantity": 4}
    assert row.priority == CatalogUpdateStream.Priority.BACK_IN_STOCK


def test_reverting_a_product_that_is_not_eol_does_nothing():
    p = product(10)
    assert products_revert_eol(product_ids=[p.pk]).flagged_product_ids == []
    assert not ProductSupplierEvent.objects.filter(reason="eol_reverted").exists()
