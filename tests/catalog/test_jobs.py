"""Catalog job kinds: the periodic sweep of the dirty set."""

import pytest

from catalog.models import DirtyProduct, ProductActiveOffer
from catalog.services.dirty import products_mark_dirty
from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.scheduler import periodic_tick
from genesys.models import JobRun
from tests.factories import ProductFactory, SupplierItemFactory
from tests.support.jobs import jobs_work

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_tick_sweeps_products_an_ingest_left_dirty():
    product = ProductFactory()
    SupplierItemFactory(product=product)
    products_mark_dirty(product_ids=[product.pk])

    periodic_tick()
    jobs_work("catalog")

    run = JobRun.objects.get(kind="catalog_recompute")
    assert (run.key, run.status, run.summary["products"]) == ("catalog_recompute:dirty", "success", 1)
    assert ProductActiveOffer.objects.filter(product=product).exists()
    assert not DirtyProduct.objects.exists()


def test_the_sweep_is_not_queued_when_nothing_is_dirty_nor_twice_at_once():
    periodic_tick()
    assert not JobRun.objects.filter(kind="catalog_recompute").exists()
    products_mark_dirty(product_ids=[ProductFactory().pk])
    assert job_enqueue(kind="catalog_recompute", triggered_by="test") is not None
    assert job_enqueue(kind="catalog_recompute", triggered_by="test") is None
