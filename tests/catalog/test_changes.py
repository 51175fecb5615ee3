"""Operator changes recompute the affected products after commit, with the right reason."""

from decimal import Decimal

import pytest

from catalog.models import CatalogUpdateStream, ProductActiveOffer
from catalog.services.changes import (
    category_save,
    product_save,
    products_resync,
    products_set_eol_manually,
)
from catalog.services.offers import Reason, active_offers_recompute
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


def test_product_margin_edit_reprices_and_queues_margin_changed(sold, django_capture_on_commit_callbacks):
    product, _ = sold
    product.margin = D("0.5")
    with django_capture_on_commit_callbacks(execute=True):
        product_save(product=product, changed_fields={"margin"})
    assert price_sent(product) == D("150.00")
    row = pending(product)
    assert row.reasons == [Reason.MARGIN_CHANGED]
    assert row.priority == CatalogUpdateStream.Priority.PRICE


def test_nothing_happens_before_the_transaction_commits(sold, django_capture_on_commit_callbacks):
    product, _ = sold
    product.margin = D("0.5")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        product_save(product=product, changed_fields={"margin"})
    assert len(callbacks) == 1
    assert price_sent(product) == D("120.00")


def test_category_margin_edit_reprices_products_of_the_subtree(sold, django_capture_on_commit_callbacks):
    product, _ = sold
    parent = CategoryFactory()
    product.category.parent = parent
    product.category.save()
    parent.margin = D("0.3")
    with django_capture_on_commit_callbacks(execute=True):
        category_save(category=parent, changed_fields={"margin"})
    jobs_work("catalog")  # category and supplier edits recompute in a job
    assert price_sent(product) == D("130.00")
    assert pending(product).reasons == [Reason.MARGIN_CHANGED]


def test_renaming_a_category_rewrites_the_paths_below_it(db):
    root = CategoryFactory(name="Informática")
    child = CategoryFactory(name="Portáteis", parent=root)
    grandchild = CategoryFactory(name="Gaming", parent=child)
    root.name = "Computadores"
    category_save(category=root, changed_fields={"name"})
    grandchild.refresh_from_db()
    assert grandchild.full_path == "Computadores > Portáteis > Gaming"


def test_disabling_a_product_sends_it_inactive(sold):
    product, _ = sold
    product.is_enabled = False
    product_save(product=product, changed_fields={"is_enabled"})
    product.refresh_from_db()
    assert product.is_enabled is False
    row = pending(product)
    assert row.reasons == [Reason.PRODUCT_DISABLED]
    assert row.payload["shop"]["active"] is False


def test_ticking_eol_in_the_form_is_a_manual_eol_with_an_event(sold):
    product, _ = sold
    product.is_eol = True
    product.name = "Renamed too"
    product_save(product=product, changed_fields={"is_eol", "name"})
    product.refresh_from_db()
    assert (product.is_eol, product.name) == (True, "Renamed too")
    assert product.events.filter(reason="eol_marked", note="manual").count() == 1
    assert pending(product).reasons == [Reason.MANUAL]


def test_unrelated_edits_queue_nothing(sold, django_capture_on_commit_callbacks):
    product, _ = sold
    product.name = "New name"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        product_save(product=product, changed_fields={"name"})
    assert callbacks == []
    assert not CatalogUpdateStream.objects.filter(status="pending").exists()


def test_manual_eol_and_back(sold):
    product, _ = sold
    assert products_set_eol_manually(product_ids=[product.pk], is_eol=True) == 1
    assert pending(product).payload["shop"]["active"] is False
    assert products_set_eol_manually(product_ids=[product.pk], is_eol=True) == 0
    CatalogUpdateStream.objects.update(status="done")
    assert products_set_eol_manually(product_ids=[product.pk], is_eol=False) == 1
    assert pending(product).payload["shop"]["active"] is True
    assert pending(product).reasons == [Reason.MANUAL]


def test_resync_queues_unchanged_products(sold):
    product, _ = sold
    assert products_resync(product_ids=[product.pk]) == 1
    assert pending(product).reasons == [Reason.RESYNC]
