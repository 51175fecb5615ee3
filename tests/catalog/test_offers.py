"""Recomputing active offers: election, pricing and the shop updates it queues, in the database."""

from decimal import Decimal

import pytest

from catalog.models import CatalogUpdateStream, ProductActiveOffer
from catalog.services.offers import Reason, active_offers_recompute
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    SupplierFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def offer_for(product, *, price, stock, margin="0.2000", priority=0, **kwargs):
    supplier = SupplierFactory(margin=D(margin) if margin is not None else None, priority=priority, **kwargs)
    return SupplierItemFactory(
        product=product, feed=SupplierFeedFactory(supplier=supplier), price=D(price), stock=stock
    )


def recompute(*products, **kwargs):
    return active_offers_recompute(product_ids=[p.pk for p in products], reason=Reason.INGEST, **kwargs)


def pending(product):
    return CatalogUpdateStream.objects.get(product=product, status="pending")


def test_the_cheapest_offer_in_stock_becomes_the_active_offer_with_its_price():
    product = ProductFactory(id_ecommerce=501)
    offer_for(product, price="110", stock=3)
    cheap = offer_for(product, price="100", stock=2)
    offer_for(product, price="90", stock=0)
    result = recompute(product)
    active = ProductActiveOffer.objects.get(product=product)
    assert active.supplier_item == cheap
    assert (active.unit_cost, active.unit_price_sent, active.stock_sent) == (D("100"), D("120.00"), 2)
    assert result.offers_created == 1
    assert result.changed_product_ids == [product.pk]


def test_a_changed_product_in_the_shop_gets_one_pending_row_with_its_full_state():
    product = ProductFactory(id_ecommerce=501, name="LG OLED55C4")
    item = offer_for(product, price="100", stock=2)
    recompute(product)
    row = pending(product)
    assert row.reasons == [Reason.INGEST]
    assert row.priority == CatalogUpdateStream.Priority.BACK_IN_STOCK
    assert row.payload["product"]["id_ecommerce"] == 501
    assert row.payload["product"]["name"] == "LG OLED55C4"
    assert row.payload["active_offer"] == {
        "id_supplier": item.supplier_id,
        "id_supplier_item": item.pk,
        "unit_cost": "100.0000",
        "unit_price_sent": "120.00",
        "stock_sent": 2,
    }
    assert row.payload["shop"] == {"active": True, "price": "120.00", "quantity": 2}


def test_recomputing_an_unchanged_product_writes_nothing():
    product = ProductFactory(id_ecommerce=501)
    offer_for(product, price="100", stock=2)
    recompute(product)
    CatalogUpdateStream.objects.update(status="done")
    before = ProductActiveOffer.objects.get(product=product).updated_at
    result = recompute(product)
    assert result.changed_product_ids == []
    assert result.offers_updated == result.offers_created == 0
    assert not CatalogUpdateStream.objects.filter(status="pending").exists()
    assert ProductActiveOffer.objects.get(product=product).updated_at == before


def test_nothing_in_stock_keeps_the_cheapest_offer_at_a_real_price_with_stock_zero():
    product = ProductFactory(id_ecommerce=501)
    offer_for(product, price="100", stock=0)
    cheapest = offer_for(product, price="95", stock=0)
    recompute(product)
    active = ProductActiveOffer.objects.get(product=product)
    assert (active.supplier_item, active.stock_sent, active.unit_price_sent) == (cheapest, 0, D("114.00"))
    assert pending(product).payload["shop"] == {"active": True, "price": "114.00", "quantity": 0}


def test_no_candidate_removes_the_active_offer_and_sends_stock_zero_and_inactive():
    product = ProductFactory(id_ecommerce=501)
    item = offer_for(product, price="100", stock=4)
    recompute(product)
    CatalogUpdateStream.objects.update(status="done")
    item.supplier.is_active = False
    item.supplier.save()
    result = recompute(product)
    assert not ProductActiveOffer.objects.filter(product=product).exists()
    assert result.offers_removed == 1
    row = pending(product)
    assert row.payload["active_offer"] is None
    assert row.payload["shop"] == {"active": False, "price": None, "quantity": 0}
    assert row.priority == CatalogUpdateStream.Priority.SOLD_OUT


def test_zero_cost_offers_are_never_elected():
    product = ProductFactory(id_ecommerce=501)
    offer_for(product, price="0", stock=50)
    real = offer_for(product, price="80", stock=1)
    recompute(product)
    assert ProductActiveOffer.objects.get(product=product).supplier_item == real


def test_margin_precedence_product_then_category_tree_then_supplier_then_default(settings):
    settings.GENESYS_DEFAULT_MARGIN = D("0.50")
    parent = CategoryFactory(margin=D("0.30"))
    child = CategoryFactory(parent=parent)
    own = ProductFactory(margin=D("0.10"), category=child)
    inherited = ProductFactory(category=child)
    supplier_margin = ProductFactory()
    default = ProductFactory()
    for product in (own, inherited, supplier_margin):
        offer_for(product, price="100", stock=1, margin="0.2000")
    offer_for(default, price="100", stock=1, margin=None)
    recompute(own, inherited, supplier_margin, default)
    prices = dict(ProductActiveOffer.objects.values_list("product_id", "unit_price_sent"))
    assert prices == {
        own.pk: D("110.00"),
        inherited.pk: D("130.00"),
        supplier_margin.pk: D("120.00"),
        default.pk: D("150.00"),
    }


def test_products_not_in_the_shop_get_rows_only_in_auto_import_categories():
    hidden = ProductFactory(id_ecommerce=None)
    importable = ProductFactory(
        id_ecommerce=None, category=CategoryFactory(auto_import=True, id_ps_category=12)
    )
    offer_for(hidden, price="10", stock=1)
    offer_for(importable, price="10", stock=1)
    recompute(hidden, importable)
    assert not CatalogUpdateStream.objects.filter(product=hidden).exists()
    assert CatalogUpdateStream.objects.filter(product=importable, status="pending").exists()


def test_a_later_change_merges_into_the_pending_row_raising_priority_never_lowering_it():
    product = ProductFactory(id_ecommerce=501)
    item = offer_for(product, price="100", stock=0)
    recompute(product)
    assert pending(product).priority == CatalogUpdateStream.Priority.PRICE  # a first price
    item.stock = 4
    item.save()
    active_offers_recompute(product_ids=[product.pk], reason=Reason.MARGIN_CHANGED)
    assert pending(product).priority == CatalogUpdateStream.Priority.BACK_IN_STOCK
    item.price = D("90")
    item.save()
    recompute(product)
    row = pending(product)
    assert row.priority == CatalogUpdateStream.Priority.BACK_IN_STOCK  # a price change does not lower it
    assert row.reasons == [Reason.INGEST, Reason.MARGIN_CHANGED]  # first-seen order, no duplicates
    assert row.payload["shop"] == {"active": True, "price": "108.00", "quantity": 4}  # the latest state
    assert CatalogUpdateStream.objects.filter(product=product).count() == 1


def test_resync_queues_the_state_even_without_a_change():
    product = ProductFactory(id_ecommerce=501)
    offer_for(product, price="100", stock=2)
    recompute(product)
    CatalogUpdateStream.objects.update(status="done")
    result = recompute(product, force_stream=True)
    assert result.stream_rows == 1
    assert pending(product).payload["shop"]["quantity"] == 2


def test_recompute_takes_the_same_number_of_queries_for_30_or_90_products():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(count):
        products = [ProductFactory(id_ecommerce=None, category=None) for _ in range(count)]
        for product in products:
            offer_for(product, price="10", stock=1)
            offer_for(product, price="11", stock=1)
        with CaptureQueriesContext(connection) as captured:
            result = recompute(*products)
        assert result.offers_created == count
        return len(captured)

    assert queries_for(30) == queries_for(90) <= 20
