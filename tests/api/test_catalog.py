"""GET /api/v1/products/{id or gtin}: offers, the active one and why it won, what the shop was
sent and what waits to be sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import CatalogUpdateStream
from tests.api.conftest import bearer
from tests.factories import (
    CatalogUpdateStreamFactory,
    PriceApprovalFactory,
    ProductActiveOfferFactory,
    ProductFactory,
    SupplierFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def get(client, token_for):
    headers = bearer(token_for("viewer"))
    return lambda path: client.get(path, headers=headers)


def test_a_product_shows_its_offers_the_winner_and_why(get):
    product = ProductFactory(shop_price=Decimal("120.0000"))
    cheap = SupplierItemFactory(product=product, price=Decimal("90.0000"), stock=3)
    dear = SupplierItemFactory(
        product=product,
        price=Decimal("95.0000"),
        stock=8,
        feed=SupplierFeedFactory(supplier=SupplierFactory()),
    )
    ProductActiveOfferFactory(
        product=product,
        supplier_item=cheap,
        unit_cost=Decimal("90.0000"),
        unit_price_sent=Decimal("108.0000"),
    )
    body = get(f"/api/v1/products/{product.pk}").json()
    assert body["id"] == product.pk and body["gtin"] == product.gtin
    assert body["price_sent"] == "108.0000" and body["shop_price"] == "120.0000"
    assert body["active_offer"]["supplier_item_id"] == cheap.pk
    assert body["active_offer"]["supplier"]["id"] == cheap.supplier_id
    offers = {o["supplier_item_id"]: o for o in body["offers"]}
    assert offers[cheap.pk]["won"] and not offers[dear.pk]["won"]
    assert offers[cheap.pk]["verdict"] and offers[dear.pk]["verdict"]
    assert body["active_offer_why"] == offers[cheap.pk]["verdict"]
    assert offers[dear.pk]["price"] == "95.0000" and offers[dear.pk]["stock"] == 8
    assert body["pending_stream_row"] is None and body["price_waiting"] is None


def test_the_update_waiting_for_the_shop_and_a_held_price_are_shown(get):
    offer = ProductActiveOfferFactory()
    CatalogUpdateStreamFactory(product=offer.product, status=CatalogUpdateStream.Status.DONE)
    pending = CatalogUpdateStreamFactory(
        product=offer.product, payload={"price": "120.0000"}, reasons=["ingest_supplier"]
    )
    PriceApprovalFactory(product=offer.product, supplier_item=offer.supplier_item)
    body = get(f"/api/v1/products/{offer.product.pk}").json()
    assert body["pending_stream_row"]["id"] == pending.pk
    assert body["pending_stream_row"]["status"] == "pending" and body["pending_stream_row"]["reasons"] == [
        "ingest_supplier"
    ]
    assert body["price_waiting"]["new_price"] == "240.0000"


@pytest.mark.parametrize("form", ["14", "13", "12"])
def test_a_product_is_found_by_any_printed_form_of_its_gtin(get, form):
    product = ProductFactory(gtin="00820650851230")
    reference = {"14": "00820650851230", "13": "0820650851230", "12": "820650851230"}[form]
    assert get(f"/api/v1/products/{reference}").json()["id"] == product.pk


def test_an_unknown_product_is_404(get):
    for reference in ["999999", "5601234567890", "abc", "9" * 30]:
        response = get(f"/api/v1/products/{reference}")
        assert response.status_code == 404, reference
        assert response.json()["code"] == "not_found"
