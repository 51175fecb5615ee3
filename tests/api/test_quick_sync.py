"""POST /api/v1/sync/quick: the supplier's ingest now (urgent), then a shop drain of its own
that starts only once that ingest has ended, so the drain carries what the ingest produced."""

from __future__ import annotations

import pytest

from genesys.jobs.ledger import kind_config_get
from genesys.models import JobKind, JobRun
from tests.api.conftest import bearer
from tests.factories import JobRunFactory, SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quick(client, token_for):
    headers = bearer(token_for("operator"))
    kind_config_get(kind=JobKind.SUPPLIER_INGEST)
    kind_config_get(kind=JobKind.CATALOG_SYNC)

    def post(supplier):
        return client.post(
            "/api/v1/sync/quick", {"supplier": supplier}, content_type="application/json", headers=headers
        )

    return post


def test_a_quick_sync_queues_an_urgent_ingest_and_a_drain_that_waits_for_it(quick):
    supplier = SupplierFactory()

    response = quick(str(supplier.pk))

    assert response.status_code == 201, response.content
    body = response.json()
    ingest = JobRun.objects.get(pk=body["ingest"]["id"])
    sync = JobRun.objects.get(pk=body["sync"]["id"])
    assert (ingest.kind, ingest.priority, ingest.params) == (
        JobKind.SUPPLIER_INGEST,
        "urgent",
        {"supplier_id": supplier.pk},
    )
    assert (sync.kind, sync.priority, sync.after_run_id) == (JobKind.CATALOG_SYNC, "urgent", ingest.pk)
    assert body["ingest_created"] and body["sync_created"]


def test_a_drain_already_queued_does_not_stand_in_for_the_quick_syncs_own(quick):
    """The scheduled drain may run before the ingest has written anything: the quick sync's
    drain is a run of its own, after the ingest."""
    regular = JobRunFactory(kind=JobKind.CATALOG_SYNC, key=JobKind.CATALOG_SYNC, status=JobRun.Status.QUEUED)
    supplier = SupplierFactory()

    body = quick(supplier.name).json()

    assert body["sync_created"] is True
    sync = JobRun.objects.get(pk=body["sync"]["id"])
    assert sync.pk != regular.pk and sync.after_run_id == body["ingest"]["id"]
    assert sync.key == f"{JobKind.CATALOG_SYNC}:after:{body['ingest']['id']}"


def test_asking_twice_returns_the_same_ingest_and_the_same_drain(quick):
    supplier = SupplierFactory()
    first = quick(str(supplier.pk)).json()

    again = quick(str(supplier.pk))

    assert again.status_code == 200
    assert again.json()["ingest"]["id"] == first["ingest"]["id"]
    assert again.json()["sync"]["id"] == first["sync"]["id"] and again.json()["sync_created"] is False


def test_an_unknown_supplier_is_400_naming_the_field(quick):
    response = quick("no such supplier")

    assert response.status_code == 400
    assert response.json()["field"] == "supplier"
    assert not JobRun.objects.exists()
