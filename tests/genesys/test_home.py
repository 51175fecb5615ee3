"""The admin home page: what happened (last runs, the stream, health) and what needs an operator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from catalog.models import CatalogUpdateStream
from genesys.home import home_page_get
from genesys.models import JobKind, JobRun
from procurement.models import FeedRun, IdentityConflict, SupplierItem
from tests.factories import (
    BrandFactory,
    CatalogUpdateStreamFactory,
    CategoryFactory,
    FeedRunFactory,
    IdentityConflictFactory,
    JobRunFactory,
    PriceApprovalFactory,
    ProductFactory,
    StreamBacklogSampleFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)

pytestmark = pytest.mark.django_db


def _feed_with_runs(count: int, **last):
    feed = SupplierFeedFactory()
    start = timezone.now() - timedelta(hours=count + 1)
    for n in range(count):
        FeedRunFactory(
            feed=feed,
            started_at=start + timedelta(hours=n),
            finished_at=start + timedelta(hours=n, minutes=2),
            rows_valid=100 + n,
            rows_rejected=n % 3,
            offers_changed=n,
            unseen_handling="applied",
        )
    if last:
        FeedRunFactory(feed=feed, started_at=timezone.now() - timedelta(minutes=5), **last)
    return feed


def _needs(user) -> dict[str, int]:
    return {item.key: item.count for item in home_page_get(user=user).needs}


def test_each_supplier_shows_its_last_run_and_a_sparkline_of_its_last_30(staff_client):
    feed = _feed_with_runs(
        40,
        status=FeedRun.Status.WARNING,
        rows_valid=1234,
        rows_rejected=56,
        offers_changed=78,
        unseen_handling="skipped",
    )
    page = staff_client.get(reverse("admin:index")).content.decode()
    block = page[page.index('id="home-suppliers"') :]
    row = block[block.index(feed.name) :]
    assert "1234" in row and "56" in row and "78" in row
    assert "skipped by the guard" in row
    assert "<svg" in row and f"Last runs of {feed.name}" in row
    home = home_page_get(user=staff_client.session and _superuser())
    suppliers = next(s for s in home.sections if s["name"] == "suppliers")["data"]["rows"]
    (mine,) = [r for r in suppliers if r["feed"].pk == feed.pk]
    assert len(mine["history"][0].points) == 30  # the last 30 runs, not all 41


def _superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="operator")


def test_a_scheduled_next_ingest_is_shown_as_scheduled_not_queued(staff_client):
    feed = _feed_with_runs(1)
    JobRunFactory(
        kind=JobKind.SUPPLIER_INGEST,
        key=f"supplier_ingest:{feed.supplier_id}",
        status=JobRun.Status.QUEUED,
        scheduled_for=timezone.now() + timedelta(hours=2),
    )
    page = staff_client.get(reverse("admin:index")).content.decode()
    block = page[page.index('id="home-suppliers"') :]
    assert "Scheduled for " in block
    listed = staff_client.get(reverse("admin:genesys_jobrun_changelist")).content.decode()
    assert "Scheduled for " in listed


def test_a_running_ingest_shows_its_percentage_and_estimated_end(staff_client):
    feed = _feed_with_runs(1)
    job = JobRunFactory(
        kind=JobKind.SUPPLIER_INGEST,
        key=f"supplier_ingest:{feed.supplier_id}",
        status=JobRun.Status.RUNNING,
        started_at=timezone.now(),
        progress={"done": 420, "total": 1000, "unit": "rows", "percent": 42.0,
                  "eta": (timezone.now() + timedelta(minutes=3)).isoformat()},
    )  # fmt: skip
    FeedRunFactory(feed=feed, status=FeedRun.Status.RUNNING, finished_at=None, job_run=job)
    page = staff_client.get(reverse("admin:index")).content.decode()
    block = page[page.index('id="home-suppliers"') :]
    assert "42 %, ends about" in block
    run_page = staff_client.get(reverse("admin:genesys_jobrun_change", args=[job.pk])).content.decode()
    assert "42 %, ends about" in run_page


def test_needs_you_counts_what_waits_for_an_operator(staff_client):
    _feed_with_runs(2, status=FeedRun.Status.FAILED, error="HTTP 500")
    _feed_with_runs(2, status=FeedRun.Status.WARNING, unseen_handling="skipped")
    _feed_with_runs(3)  # healthy: counts for nothing
    IdentityConflictFactory(status=IdentityConflict.Status.OPEN)
    IdentityConflictFactory(status=IdentityConflict.Status.SPLIT)
    SupplierItemFactory(hold_reason=SupplierItem.HoldReason.PRICE_OUTLIER)
    CatalogUpdateStreamFactory(status=CatalogUpdateStream.Status.FAILED)
    PriceApprovalFactory()
    unmapped = CategoryFactory()
    ProductFactory(category=unmapped)
    CategoryFactory()  # no products: not counted
    ProductFactory(brand=BrandFactory(name="Nowhere"))
    needs = _needs(_superuser())
    assert needs["failed_runs"] == 1
    assert needs["skipped_guards"] == 1
    assert needs["identity_conflicts"] == 1
    assert needs["price_outlier"] == 1
    assert needs["parked"] == 1
    assert needs["prices"] == 1
    assert needs["unmapped_categories"] == 1
    assert needs["unmatched_brands"] >= 1
    page = staff_client.get(reverse("admin:index")).content.decode()
    block = page[page.index('id="needs-you"') :]
    assert "?status__exact=failed" in block and "?unseen_handling__exact=skipped" in block
    assert "?shop_mapping=unmapped_with_products" in block and "?shop_match=no" in block


def test_the_stream_block_shows_the_backlog_and_what_was_sent(staff_client):
    now = timezone.now()
    CatalogUpdateStreamFactory(created_at=now - timedelta(minutes=30))
    CatalogUpdateStreamFactory(status=CatalogUpdateStream.Status.FAILED)
    CatalogUpdateStreamFactory(status=CatalogUpdateStream.Status.DONE, processed_at=now)
    for hours in (20, 10, 1):
        StreamBacklogSampleFactory(taken_at=now - timedelta(hours=hours), pending=hours * 10)
    StreamBacklogSampleFactory(taken_at=now - timedelta(hours=30), pending=4321)  # older than 24 h
    page = staff_client.get(reverse("admin:index")).content.decode()
    block = page[page.index('id="home-stream"') :]
    assert "Stream backlog, last 24 hours" in block and "<svg" in block
    assert "4321" not in block and "4.32k" not in block
    section = next(s for s in home_page_get(user=_superuser()).sections if s["name"] == "stream")["data"]
    assert (section["pending"], section["failed"], section["sent_last_hour"]) == (1, 1, 1)
    assert 29 * 60 <= section["oldest_pending_age_s"] <= 31 * 60


def test_the_health_block_says_what_healthz_knows(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()
    block = page[page.index('id="home-health"') :]
    assert "Workers" in block and "Cron (periodic tick)" in block and "Kill switch" in block
    assert "0 workers alive" in block  # no worker process in this test
    assert "ingest" in block  # the queues


def test_the_home_page_reads_a_fixed_number_of_queries_whatever_the_number_of_suppliers(
    staff_client, django_assert_max_num_queries
):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(reverse("admin:index")).status_code == 200
        return len(captured)

    _feed_with_runs(3)
    few = count()
    for _ in range(6):
        _feed_with_runs(3, status=FeedRun.Status.FAILED)
    with django_assert_max_num_queries(few):
        assert staff_client.get(reverse("admin:index")).status_code == 200


def test_each_block_is_shown_only_to_users_who_may_view_its_models(client, django_user_model):
    user = django_user_model.objects.create_user("rui", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_catalogupdatestream"))
    client.force_login(user)
    _feed_with_runs(2)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="home-stream"' in page
    assert 'id="home-suppliers"' not in page and 'id="home-health"' not in page
    assert {item.key for item in home_page_get(user=user).needs} == {"parked"}
