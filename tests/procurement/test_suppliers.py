"""Operator changes to suppliers and feeds re-price, re-elect and reschedule after commit."""

from decimal import Decimal

import pytest

from catalog.models import CatalogUpdateStream, DirtyProduct, ProductActiveOffer
from catalog.services.offers import Reason, active_offers_recompute
from procurement.services.suppliers import feed_save, supplier_save
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    SupplierFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)
from tests.support.jobs import jobs_work

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def sold(db):
    """A shop product sold by one supplier at cost 100 with a 20 % supplier margin."""
    category = CategoryFactory()
    product = ProductFactory(id_ecommerce=700, category=category)
    item = SupplierItemFactory(
        product=product,
        price=D("100"),
        stock=3,
        feed=SupplierFeedFactory(supplier=SupplierFactory(margin=D("0.2"))),
    )
    active_offers_recompute(product_ids=[product.pk], reason=Reason.INGEST)
    CatalogUpdateStream.objects.update(status="done")
    return product, item


def pending(product):
    return CatalogUpdateStream.objects.get(product=product, status="pending")


def price_sent(product):
    return ProductActiveOffer.objects.get(product=product).unit_price_sent


def test_supplier_margin_edit_reprices_its_products(sold, django_capture_on_commit_callbacks):
    product, item = sold
    supplier = item.supplier
    supplier.margin = D("0.1")
    with django_capture_on_commit_callbacks(execute=True):
        supplier_save(supplier=supplier, changed_fields={"margin"})
    jobs_work("catalog")  # category and supplier edits recompute in a job
    assert price_sent(product) == D("110.00")
    assert pending(product).reasons == [Reason.MARGIN_CHANGED]


def test_disabling_a_supplier_moves_products_to_other_offers_or_out(sold, django_capture_on_commit_callbacks):
    product, item = sold
    other = SupplierItemFactory(product=product, price=D("105"), stock=1)
    supplier = item.supplier
    supplier.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        supplier_save(supplier=supplier, changed_fields={"is_active"})
    jobs_work("catalog")  # category and supplier edits recompute in a job
    assert ProductActiveOffer.objects.get(product=product).supplier_item == other
    assert pending(product).reasons == [Reason.SUPPLIER_DISABLED]


def test_a_feed_currency_change_marks_its_products_for_the_catalog_step(sold):
    product, item = sold
    feed = item.feed
    feed.currency = "USD"
    feed_save(feed=feed, changed_fields={"currency"})
    assert DirtyProduct.objects.filter(product_id=product.pk).exists()


def test_a_feed_rename_marks_nothing(sold):
    _, item = sold
    feed = item.feed
    feed.name = "renamed"
    feed_save(feed=feed, changed_fields={"name"})
    assert not DirtyProduct.objects.exists()
