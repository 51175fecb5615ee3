"""Bulk actions on the product list: a confirmation page with counts, then the catalog's services;
the column choice; the price and stock charts on the product page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import CatalogUpdateStream, Product
from catalog.services.bulk import products_bulk_count
from tests.factories import (
    CatalogUpdateStreamFactory,
    ProductActiveOfferFactory,
    ProductFactory,
    ProductSupplierEventFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:catalog_product_changelist"
_shop_ids = iter(range(5000, 6000))


def _in_shop(**product):
    """A product the shop has (only those get shop updates), with an elected offer."""
    fields = {f"supplier_item__product__{name}": value for name, value in product.items()}
    return ProductActiveOfferFactory(supplier_item__product__id_ecommerce=next(_shop_ids), **fields)


def _post(client, action: str, products, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [p.pk for p in products], "index": 0, **extra},
    )


def test_bulk_enable_confirms_with_counts_then_enables_and_queues_shop_updates(role_client):
    client = role_client("operator")
    disabled = [_in_shop(is_enabled=False).product for _ in range(3)]
    enabled = _in_shop().product
    page = _post(client, "enable", [*disabled, enabled])
    assert page.status_code == 200
    text = page.content.decode()
    assert "4 products selected." in text and "3 products will change." in text
    assert "1 is already in that state and is left alone." in text
    assert Product.objects.filter(is_enabled=False).count() == 3  # nothing moved yet
    done = _post(client, "enable", [*disabled, enabled], confirm="1")
    assert done.status_code == 302
    assert not Product.objects.filter(is_enabled=False).exists()
    rows = CatalogUpdateStream.objects.filter(product__in=disabled, status="pending")
    assert rows.count() == 3 and all("product_enabled" in row.reasons for row in rows)


def test_bulk_disable_leaves_disabled_products_alone(role_client):
    client = role_client("operator")
    products = [ProductFactory(), ProductFactory(is_enabled=False)]
    assert products_bulk_count(product_ids=[p.pk for p in products], action="disable").change == 1
    _post(client, "disable", products, confirm="1")
    assert not Product.objects.filter(is_enabled=True).exists()


def test_set_margin_asks_for_the_margin_then_shows_counts_then_reprices(
    role_client, django_capture_on_commit_callbacks
):
    client = role_client("operator")
    offer = _in_shop()
    same = ProductFactory(margin=Decimal("0.3000"))
    asked = _post(client, "set_margin", [offer.product, same]).content.decode()
    assert 'name="margin"' in asked and "Review the change" in asked
    reviewed = _post(client, "set_margin", [offer.product, same], margin="0.30", review="1").content.decode()
    assert "1 product will change." in reviewed and "1 is already in that state" in reviewed
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, "set_margin", [offer.product, same], margin="0.30", confirm="1")
    offer.product.refresh_from_db()
    assert offer.product.margin == Decimal("0.3000")
    (row,) = CatalogUpdateStream.objects.filter(product=offer.product, status="pending")
    assert "margin_changed" in row.reasons


def test_a_negative_margin_is_refused_and_asked_again(role_client):
    client = role_client("operator")
    product = ProductFactory()
    page = _post(client, "set_margin", [product], margin="-1", confirm="1").content.decode()
    assert 'name="margin"' in page
    product.refresh_from_db()
    assert product.margin is None


def test_mark_eol_and_back_confirm_first(role_client):
    client = role_client("operator")
    products = [ProductFactory(), ProductFactory(is_eol=True)]
    assert "1 product will change." in _post(client, "mark_eol", products).content.decode()
    _post(client, "mark_eol", products, confirm="1")
    assert Product.objects.filter(is_eol=True).count() == 2
    _post(client, "unmark_eol", products, confirm="1")
    assert not Product.objects.filter(is_eol=True).exists()


def test_resync_counts_updates_already_waiting(role_client):
    client = role_client("operator")
    waiting = _in_shop().product
    CatalogUpdateStreamFactory(product=waiting)
    fresh = _in_shop().product
    elsewhere = ProductFactory()
    text = _post(client, "resync", [waiting, fresh, elsewhere]).content.decode()
    assert "2 products will be sent to the shop again." in text and "1 already has an update waiting" in text
    assert "1 is not in the shop yet: nothing to send." in text
    _post(client, "resync", [waiting, fresh, elsewhere], confirm="1")
    assert CatalogUpdateStream.objects.filter(product=fresh, status="pending").exists()


def test_a_viewer_is_not_offered_the_bulk_actions(role_client):
    client = role_client("viewer")
    product = ProductFactory(is_enabled=False)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert 'value="enable"' not in page
    _post(client, "enable", [product], confirm="1")
    product.refresh_from_db()
    assert not product.is_enabled


def test_price_stock_and_enabled_come_first_and_the_rest_behind_a_column_choice(staff_client):
    ProductActiveOfferFactory()
    page = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "column-price_sent" in page and "column-is_enabled" in page
    assert "column-gtin" not in page and "Every column" in page
    assert staff_client.get(reverse(CHANGELIST), {"_columns": "all"}).status_code == 302
    page = staff_client.get(reverse(CHANGELIST)).content.decode()  # the choice is kept
    assert "column-gtin" in page and "column-id_ecommerce" in page and "Fewer columns" in page
    order = [
        page.index(f"column-{name}") for name in ("name", "price_sent", "stock_sent", "is_enabled", "gtin")
    ]
    assert order == sorted(order)


def test_the_product_page_charts_sent_price_cost_and_each_suppliers_price_and_stock(staff_client):
    offer = ProductActiveOfferFactory()
    product = offer.product
    now = timezone.now()
    for days, price in ((3, "110.00"), (1, "120.00")):
        CatalogUpdateStreamFactory(
            product=product,
            status=CatalogUpdateStream.Status.DONE,
            processed_at=now - timedelta(days=days),
            payload={"shop": {"price": price, "quantity": 4}, "active_offer": {"unit_cost": "90.00"}},
        )
    rival = SupplierFactory(name="Rival Lda")
    ProductSupplierEventFactory(product=product, supplier=rival, new_price=Decimal("95"), new_stock=7)
    page = staff_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()
    block = page[page.index('id="product-history"') :]
    assert block[: block.index("</div>")].count("<svg") == 2
    assert 'aria-label="Price over time"' in block and "<title>Price over time</title>" in block
    assert "Rival Lda: price in the feed" in block and "Rival Lda: stock" in block
    assert "120" in block and "110" in block and "95" in block  # the text table


def test_the_column_choice_keeps_the_lists_filters_and_search(staff_client):
    ProductActiveOfferFactory()
    page = staff_client.get(reverse(CHANGELIST), {"q": "fridge", "is_enabled__exact": "1"}).content.decode()
    link = re.search(r'href="\?([^"]*)" id="columns-toggle"', page).group(1).replace("&amp;", "&")
    assert parse_qs(link) == {"q": ["fridge"], "is_enabled__exact": ["1"], "_columns": ["all"]}

    response = staff_client.get(reverse(CHANGELIST) + "?" + link)

    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query) == {"q": ["fridge"], "is_enabled__exact": ["1"]}
