"""The update stream upsert: one pending row per product and shop, merged, never duplicated."""

import threading

import pytest
from django.db import connection, connections

from catalog.models import CatalogUpdateStream
from catalog.services.update_stream import StreamChange, stream_changes_enqueue
from tests.factories import CatalogUpdateStreamFactory, ProductFactory

P = CatalogUpdateStream.Priority


def change(product, *, reasons, priority=P.OTHER, payload=None, shop="prestashop"):
    return StreamChange(
        product_id=product.pk, payload=payload or {"v": 1}, reasons=reasons, priority=priority, shop=shop
    )


@pytest.mark.django_db
def test_first_change_inserts_a_pending_row():
    product = ProductFactory()
    assert (
        stream_changes_enqueue(changes=[change(product, reasons=["ingest_supplier"], priority=P.PRICE)]) == 1
    )
    row = CatalogUpdateStream.objects.get()
    assert (row.status, row.reasons, row.priority, row.attempts) == (
        "pending",
        ["ingest_supplier"],
        P.PRICE,
        0,
    )


@pytest.mark.django_db
def test_changes_merge_payload_latest_reasons_accumulated_priority_max():
    product = ProductFactory()
    stream_changes_enqueue(
        changes=[change(product, reasons=["a", "b"], priority=P.SOLD_OUT, payload={"v": 1})]
    )
    stream_changes_enqueue(changes=[change(product, reasons=["c", "a"], priority=P.PRICE, payload={"v": 2})])
    row = CatalogUpdateStream.objects.get()
    assert row.payload == {"v": 2}
    assert row.reasons == ["a", "b", "c"]
    assert row.priority == P.SOLD_OUT


@pytest.mark.django_db
def test_duplicates_in_one_batch_are_merged_before_writing():
    product = ProductFactory()
    stream_changes_enqueue(
        changes=[
            change(product, reasons=["a"], priority=P.PRICE, payload={"v": 1}),
            change(product, reasons=["b"], priority=P.OTHER, payload={"v": 2}),
        ]
    )
    row = CatalogUpdateStream.objects.get()
    assert (row.reasons, row.priority, row.payload) == (["a", "b"], P.PRICE, {"v": 2})


@pytest.mark.django_db
def test_rows_being_processed_or_done_are_left_alone_and_a_new_pending_row_is_added():
    product = ProductFactory()
    processing = CatalogUpdateStreamFactory(product=product, status="processing", reasons=["old"])
    stream_changes_enqueue(changes=[change(product, reasons=["new"])])
    processing.refresh_from_db()
    assert processing.reasons == ["old"]
    assert CatalogUpdateStream.objects.filter(product=product, status="pending").get().reasons == ["new"]


@pytest.mark.django_db
def test_shops_are_independent():
    product = ProductFactory()
    stream_changes_enqueue(
        changes=[change(product, reasons=["a"]), change(product, reasons=["b"], shop="outlet")]
    )
    assert CatalogUpdateStream.objects.filter(product=product, status="pending").count() == 2


@pytest.mark.django_db
def test_large_batches_are_written_in_several_statements():
    products = ProductFactory.create_batch(1200)
    assert stream_changes_enqueue(changes=[change(p, reasons=["x"]) for p in products]) == 1200
    assert CatalogUpdateStream.objects.filter(status="pending").count() == 1200


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_leave_one_merged_pending_row():
    product = ProductFactory()
    rounds = 25
    barrier = threading.Barrier(2)
    errors = []

    def writer(reason):
        try:
            for n in range(rounds):
                barrier.wait()
                stream_changes_enqueue(
                    changes=[change(product, reasons=[f"{reason}-{n % 3}"], payload={"w": reason})]
                )
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert connection.vendor == "postgresql"
    rows = CatalogUpdateStream.objects.filter(product=product, status="pending")
    assert rows.count() == 1
    assert sorted(rows.get().reasons) == sorted([f"{w}-{n}" for w in "ab" for n in range(3)])
