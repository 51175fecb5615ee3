import pytest
from django.core.management import CommandError, call_command

from catalog.models import Brand, CatalogUpdateStream, Category, Product, ProductSupplierEvent
from genesys.models import JobRun, JobRunLog
from procurement.models import FeedMapper, FeedRun, Supplier, SupplierFeed, SupplierItem
from tests.factories import (
    CatalogUpdateStreamFactory,
    CategoryFactory,
    FeedMapperFactory,
    FeedRunFactory,
    JobRunLogFactory,
    ProductActiveOfferFactory,
    ProductMetaFactory,
    ProductSupplierEventFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def fill_catalog():
    parent = CategoryFactory(name="Informática")
    child = CategoryFactory(name="Portáteis", parent=parent)
    offer = ProductActiveOfferFactory(product__category=child)
    ProductSupplierEventFactory(supplier_item=offer.supplier_item)
    ProductMetaFactory(product=offer.product)
    CatalogUpdateStreamFactory(product=offer.product)
    run = FeedRunFactory(feed=offer.supplier_item.feed, job_run=JobRunLogFactory().run)
    offer.supplier_item.last_read_run = run
    offer.supplier_item.save()
    FeedMapperFactory(feed=offer.supplier_item.feed)
    return offer


def test_reset_empties_the_catalog_and_keeps_the_configuration():
    fill_catalog()
    call_command("reset_catalog", "--yes")
    for model in [
        Product,
        Brand,
        Category,
        SupplierItem,
        ProductSupplierEvent,
        CatalogUpdateStream,
        FeedRun,
        JobRun,
        JobRunLog,
    ]:
        assert model.objects.count() == 0, model
    assert Supplier.objects.count() == 1
    assert SupplierFeed.objects.count() == 1
    assert FeedMapper.objects.count() == 1


def test_reset_asks_for_confirmation_and_can_be_cancelled(monkeypatch):
    fill_catalog()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Cancelled"):
        call_command("reset_catalog")
    assert Product.objects.count() == 1


def test_reset_proceeds_after_typed_confirmation(monkeypatch, capsys):
    fill_catalog()
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("reset_catalog")
    assert Product.objects.count() == 0
    assert "Catalog reset" in capsys.readouterr().out


def test_reset_reseeds_the_ingest_schedule():
    from genesys.models import JobRun
    from tests.factories import SupplierFactory

    supplier = SupplierFactory(ingest_enabled=True)
    JobRun.objects.create(kind="supplier_ingest", key=f"supplier_ingest:{supplier.pk}", status="queued")
    call_command("reset_catalog", "--yes")
    (run,) = JobRun.objects.all()
    assert (run.key, run.status, run.params) == (
        f"supplier_ingest:{supplier.pk}",
        "queued",
        {"supplier_id": supplier.pk},
    )


def test_reset_of_an_empty_catalog_is_harmless():
    call_command("reset_catalog", "--yes")
    call_command("reset_catalog", "--yes")
    assert Product.objects.count() == 0
