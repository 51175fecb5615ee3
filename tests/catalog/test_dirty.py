"""The dirty set: the catalog step's durable intent, marked with the offers and drained once."""

from decimal import Decimal

import pytest
from django.db import connection, transaction

from catalog.models import CatalogUpdateStream, DirtyProduct, ProductActiveOffer, ProductSupplierEvent
from catalog.services.dirty import dirty_products_drain, products_mark_dirty
from catalog.services.offers import products_flags_set
from catalog.sql import dialect
from tests.factories import ProductFactory, SupplierItemFactory

pytestmark = pytest.mark.django_db
D = Decimal


def test_marking_twice_keeps_one_mark_with_a_newer_version():
    product = ProductFactory()
    products_mark_dirty(product_ids=[product.pk, product.pk], run_id=7)
    products_mark_dirty(product_ids=[product.pk], run_id=8)
    mark = DirtyProduct.objects.get()
    assert (mark.product_id, mark.version, mark.run_id) == (product.pk, 2, 8)


def test_the_drain_recomputes_marked_products_queues_their_shop_update_and_clears_the_marks():
    shop_product = ProductFactory(id_ecommerce=11)
    unmarked = ProductFactory(id_ecommerce=12)
    SupplierItemFactory(product=shop_product, price=D("10.00"), stock=3)
    SupplierItemFactory(product=unmarked, price=D("20.00"), stock=3)
    products_mark_dirty(product_ids=[shop_product.pk])

    result = dirty_products_drain()

    assert (result.products, result.stream_rows, result.chunks) == (1, 1, 1)
    assert ProductActiveOffer.objects.get().product_id == shop_product.pk
    assert CatalogUpdateStream.objects.get().product_id == shop_product.pk
    assert not DirtyProduct.objects.exists()
    assert dirty_products_drain().products == 0  # drained once, nothing left to do


def test_the_drain_works_in_chunks_and_reports_each():
    products = ProductFactory.create_batch(5)
    products_mark_dirty(product_ids=[p.pk for p in products])
    seen = []
    result = dirty_products_drain(chunk_size=2, on_chunk=lambda done: seen.append(done.products))
    assert (result.products, result.chunks, seen) == (5, 3, [2, 4, 5])


def test_the_drain_stops_between_chunks_when_asked_and_leaves_the_rest_marked():
    products = ProductFactory.create_batch(5)
    products_mark_dirty(product_ids=[p.pk for p in products])
    seen = []
    result = dirty_products_drain(
        chunk_size=2, on_chunk=lambda done: seen.append(done.products), should_stop=lambda: len(seen) == 2
    )
    assert (result.products, result.chunks, result.stopped) == (4, 2, True)
    assert DirtyProduct.objects.count() == 1  # the next drain takes it


def test_a_mark_renewed_after_the_drain_read_it_survives_the_delete():
    product, other = ProductFactory.create_batch(2)
    products_mark_dirty(product_ids=[product.pk, other.pk])
    read = DirtyProduct.objects.get(product=product)
    sql = dialect()
    with transaction.atomic(), connection.cursor() as cursor:
        sql.recompute_set_reset(cursor)
        assert sql.recompute_set_fill_marks(cursor, limit=10) == 2  # the drain's read
        products_mark_dirty(product_ids=[product.pk])  # an ingest chunk changed the offers again

        assert sql.recompute_set_marks_delete(cursor) == 1

    assert list(DirtyProduct.objects.values_list("product_id", "version")) == [(product.pk, read.version + 1)]


def test_an_end_of_life_product_with_an_offer_in_stock_comes_back_with_an_event():
    product = ProductFactory(is_eol=True, id_ecommerce=5)
    SupplierItemFactory(product=product, stock=2)
    products_mark_dirty(product_ids=[product.pk], run_id=None)

    result = dirty_products_drain()

    product.refresh_from_db()
    assert product.is_eol is False and result.eol_reverted_product_ids == [product.pk]
    assert ProductSupplierEvent.objects.filter(product=product, reason="eol_reverted").count() == 1
    assert CatalogUpdateStream.objects.get(product=product).reasons == ["eol_reverted"]


def test_an_offer_on_hold_neither_brings_an_eol_product_back_nor_wins():
    product = ProductFactory(is_eol=True, id_ecommerce=5)
    SupplierItemFactory(product=product, stock=2, hold_reason="identity_conflict")
    products_mark_dirty(product_ids=[product.pk])

    dirty_products_drain()

    product.refresh_from_db()
    assert product.is_eol is True
    assert not ProductActiveOffer.objects.exists()


def test_an_eol_reversal_alone_reaches_the_shop():
    product = ProductFactory(id_ecommerce=5)
    SupplierItemFactory(product=product, stock=3)
    products_mark_dirty(product_ids=[product.pk])
    dirty_products_drain()
    products_flags_set(product_ids=[product.pk], is_eol=True, reason="eol_marked")  # inactive now
    CatalogUpdateStream.objects.update(status="done")
    products_mark_dirty(product_ids=[product.pk])  # an ingest saw its offer, unchanged, in stock

    dirty_products_drain()

    row = CatalogUpdateStream.objects.get(status="pending")
    assert row.payload["shop"]["active"] is True and row.payload["product"]["is_eol"] is False
    assert row.reasons == ["eol_reverted"]


def test_a_mark_whose_product_is_gone_is_drained_and_changes_nothing():
    """Marks carry no database key to their product (a check a mark at each bulk COMMIT): one
    whose product was deleted behind Django's back joins no product, and the drain clears it."""
    gone, kept = ProductFactory(), ProductFactory(id_ecommerce=5)
    SupplierItemFactory(product=kept, price=D("10.00"), stock=3)
    products_mark_dirty(product_ids=[gone.pk, kept.pk])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_product WHERE id = %s", [gone.pk])
    connection.check_constraints()  # the mark outlives its product: nothing checks it at COMMIT

    dirty_products_drain()

    assert not DirtyProduct.objects.exists()
    assert list(ProductActiveOffer.objects.values_list("product_id", flat=True)) == [kept.pk]
    assert list(CatalogUpdateStream.objects.values_list("product_id", flat=True)) == [kept.pk]


def test_deleting_a_product_through_django_deletes_its_mark():
    product = ProductFactory()
    products_mark_dirty(product_ids=[product.pk])
    product.delete()
    assert not DirtyProduct.objects.exists()
