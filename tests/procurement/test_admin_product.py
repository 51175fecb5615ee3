"""Procurement adds every supplier's offer to the catalog's product page (the catalog names no app)."""

import pytest
from django.contrib import admin

from catalog.admin import ActiveOfferInline, ProductAdmin, ProductMetaInline, product_inline_add
from catalog.models import Product
from procurement.admin_product import SupplierOfferInline
from tests.factories import SupplierItemFactory


def test_the_offers_inline_follows_the_active_offer_once():
    assert ProductAdmin.inlines == [ActiveOfferInline, SupplierOfferInline, ProductMetaInline]
    product_inline_add(SupplierOfferInline)  # a second registration changes nothing
    assert ProductAdmin.inlines.count(SupplierOfferInline) == 1


@pytest.mark.django_db
def test_the_product_page_lists_every_suppliers_offer(admin_client):
    item = SupplierItemFactory(sku="OFFER-SKU-1")
    assert isinstance(admin.site._registry[Product], ProductAdmin)
    page = admin_client.get(f"/admin/catalog/product/{item.product_id}/change/")
    assert page.status_code == 200
    assert "OFFER-SKU-1" in page.content.decode()
