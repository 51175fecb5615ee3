"""The catalog admin explains elections and routes operator edits through the services."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import CatalogUpdateStream, Product
from catalog.services.offers import Reason, active_offers_recompute
from tests.factories import (
    CatalogUpdateStreamFactory,
    ProductFactory,
    SupplierFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def offer(product, *, price, stock, name):
    feed = SupplierFeedFactory(supplier=SupplierFactory(name=name, margin=D("0.2")))
    return SupplierItemFactory(product=product, feed=feed, price=D(price), stock=stock)


@pytest.fixture
def product():
    product = ProductFactory(id_ecommerce=42)
    offer(product, price="100", stock=2, name="Winner Lda")
    offer(product, price="120", stock=5, name="Pricey SA")
    offer(product, price="80", stock=0, name="Empty Lda")
    active_offers_recompute(product_ids=[product.pk], reason=Reason.INGEST)
    CatalogUpdateStream.objects.update(status="done")
    return product


def change_url(product):
    return reverse("admin:catalog_product_change", args=[product.pk])


def test_product_page_explains_every_offer(staff_client, product):
    page = staff_client.get(change_url(product)).content.decode()
    assert "cheapest landed cost in stock" in page
    assert "more expensive (120.0000 &gt; 100.0000)" in page
    assert "out of stock" in page
    assert "120.00" in page and "144.00" in page  # price if sold from each offer


def test_saving_a_margin_in_the_admin_reprices_and_queues_margin_changed(
    staff_client, product, django_capture_on_commit_callbacks
):
    data = {
        "name": product.name,
        "brand": product.brand_id,
        "partnumber": product.partnumber,
        "gtin": product.gtin,
        "margin": "0.5",
        "is_enabled": "on",
        "id_ecommerce": "42",
        "description": "",
        "image_url": "",
        "weight": "",
        "category": "",
        "active_offer-TOTAL_FORMS": "1",
        "active_offer-INITIAL_FORMS": "1",
        "active_offer-MIN_NUM_FORMS": "0",
        "active_offer-MAX_NUM_FORMS": "1",
        "active_offer-0-product": str(product.pk),
        "offers-TOTAL_FORMS": "3",
        "offers-INITIAL_FORMS": "3",
        "offers-MIN_NUM_FORMS": "0",
        "offers-MAX_NUM_FORMS": "1000",
        **{
            f"offers-{i}-id": str(pk)
            for i, pk in enumerate(product.offers.order_by("price").values_list("id", flat=True))
        },
        "meta-TOTAL_FORMS": "0",
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "1000",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(change_url(product), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = CatalogUpdateStream.objects.get(product=product, status="pending")
    assert row.reasons == [Reason.MARGIN_CHANGED]
    assert row.payload["shop"]["price"] == "150.00"


@pytest.mark.parametrize(
    ("action", "check"),
    [
        ("mark_eol", lambda p: Product.objects.get(pk=p.pk).is_eol is True),
        (
            "resync",
            lambda p: CatalogUpdateStream.objects.filter(
                product=p, status="pending", reasons=["resync"]
            ).exists(),
        ),
        ("recompute_now", lambda p: p.active_offer.unit_price_sent == D("120.00")),
    ],
)
def test_product_actions(staff_client, product, action, check):
    url = reverse("admin:catalog_product_changelist")
    response = staff_client.post(url, {"action": action, "_selected_action": [product.pk], "confirm": "1"})
    assert response.status_code == 302
    assert check(product)


def test_stream_can_be_filtered_by_reason(staff_client):
    CatalogUpdateStreamFactory(reasons=["eol_marked"], product=ProductFactory(name="Old phone"))
    CatalogUpdateStreamFactory(reasons=["ingest_supplier"], product=ProductFactory(name="New phone"))
    page = staff_client.get(reverse("admin:catalog_catalogupdatestream_changelist"), {"reason": "eol_marked"})
    content = page.content.decode()
    assert "Old phone" in content and "New phone" not in content
