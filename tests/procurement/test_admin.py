"""Procurement admin: feed preview (action, page), validation of feed settings and mapper profiles,
and the feed-run pages (rejected rows as CSV, link to the job run)."""

import json
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from procurement.models import FeedMapper, SupplierFeed
from tests.factories import (
    FeedMapperFactory,
    FeedRunFactory,
    JobRunFactory,
    SupplierFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)
from tests.support.feeds import CSV_PROFILE, csv_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(feeds_root):
    (feeds_root / "feed.csv").write_bytes(
        csv_body("A1;5600000010075;Samsung;SM-1;<b>Galaxy</b> A55;342.16;3", "A2;;;;Nameless;-1;1")
    )
    feed = SupplierFeedFactory(
        supplier=SupplierFactory(name="Distrilusa"), name="Tarifa", source_url="file:feed.csv"
    )
    FeedMapperFactory(feed=feed, profile=CSV_PROFILE)
    return feed


def preview_url(feed):
    return reverse("admin:procurement_supplierfeed_preview", args=[feed.pk])


def test_the_preview_page_shows_rows_and_problems_to_staff(staff_client, feed):
    response = staff_client.get(preview_url(feed), {"rows": 5})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Preview of Distrilusa / Tarifa" in content
    assert "Galaxy A55" in content and "<b>Galaxy</b>" not in content
    assert "342.1600" in content
    assert "Rejected:" in content
    assert "price: &quot;-1&quot; is negative; no valid GTIN and no brand + part number" in content
    assert "Nothing was written." in content


def test_the_preview_page_says_when_more_rows_were_asked_for_than_it_reads(staff_client, feed):
    response = staff_client.get(preview_url(feed), {"rows": 9000})
    assert "A preview reads at most 500 rows; 9000 were asked for." in response.content.decode()


def test_the_preview_page_shows_a_read_error(staff_client, feed, feeds_root):
    (feeds_root / "feed.csv").unlink()
    response = staff_client.get(preview_url(feed))
    assert response.status_code == 200
    assert "file:feed.csv: no such file under FEEDS_ROOT." in response.content.decode()


def test_anonymous_users_are_sent_to_the_login_page(client, feed):
    response = client.get(preview_url(feed))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_users_are_refused(client, django_user_model, feed):
    client.force_login(django_user_model.objects.create_user(username="customer", password="x" * 16))
    response = client.get(preview_url(feed))
    assert response.status_code == 302


def test_staff_without_view_permission_are_refused(client, django_user_model, feed):
    client.force_login(
        django_user_model.objects.create_user(username="clerk", password="x" * 16, is_staff=True)
    )
    assert client.get(preview_url(feed)).status_code == 403


def test_the_action_opens_the_preview_of_one_feed(staff_client, feed):
    changelist = reverse("admin:procurement_supplierfeed_changelist")
    response = staff_client.post(changelist, {"action": "preview_action", "_selected_action": [feed.pk]})
    assert response.status_code == 302
    assert response["Location"] == preview_url(feed)


def test_the_action_wants_exactly_one_feed(staff_client, feed):
    other = SupplierFeedFactory()
    changelist = reverse("admin:procurement_supplierfeed_changelist")
    response = staff_client.post(
        changelist, {"action": "preview_action", "_selected_action": [feed.pk, other.pk]}, follow=True
    )
    assert "Select exactly one feed to preview." in response.content.decode()


def test_the_change_page_links_to_the_preview(staff_client, feed):
    response = staff_client.get(reverse("admin:procurement_supplierfeed_change", args=[feed.pk]))
    assert preview_url(feed) in response.content.decode()


def mapper_form(feed, profile):
    return {"feed": feed.pk, "name": "v2", "profile": json.dumps(profile), "is_active": ""}


def test_an_invalid_profile_is_refused_with_the_field_named(staff_client, feed):
    profile = {
        "fields": {**CSV_PROFILE["fields"], "price": {"source": "price", "transforms": [{"type": "decmal"}]}}
    }
    response = staff_client.post(reverse("admin:procurement_feedmapper_add"), mapper_form(feed, profile))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["profile"]
    assert errors["profile"][0].startswith('fields.price.transforms[0]: unknown transform "decmal"')
    assert FeedMapper.objects.count() == 1


def test_a_valid_profile_is_saved(staff_client, feed):
    response = staff_client.post(reverse("admin:procurement_feedmapper_add"), mapper_form(feed, CSV_PROFILE))
    assert response.status_code == 302
    assert FeedMapper.objects.filter(name="v2").exists()


def feed_form(**changes):
    supplier = SupplierFactory()
    data = {
        "supplier": supplier.pk,
        "name": "API",
        "is_active": "on",
        "source_url": "https://api.example/products",
        "format": "json",
        "format_options": '{"items_path": "data.products"}',
        "headers": "{}",
        "auth_type": "none",
        "auth_settings": "{}",
        "pagination": '{"type": "page", "size": 50}',
        "unseen_min_ratio": "0.5",
        "mappers-TOTAL_FORMS": "0",
        "mappers-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_feed_settings_are_validated_on_save(staff_client):
    data = feed_form(
        format_options='{"items_path": "data", "delimiter": ";"}', pagination='{"type": "pages"}'
    )
    response = staff_client.post(reverse("admin:procurement_supplierfeed_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["format_options"][0].startswith("delimiter: unknown option for json feeds")
    assert errors["pagination"][0].startswith('type: unknown type "pages"')
    assert not SupplierFeed.objects.filter(name="API").exists()


def test_valid_feed_settings_are_saved(staff_client):
    response = staff_client.post(reverse("admin:procurement_supplierfeed_add"), feed_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert SupplierFeed.objects.filter(name="API").exists()


@pytest.fixture
def run_with_rejections():
    return FeedRunFactory(
        rows_rejected=1500,
        rejected_rows=[
            {"line": 3, "reason": 'price: "-1" is negative', "raw": {"ref": "A2", "price": "-1"}},
            {"line": 7, "reason": "no valid GTIN", "raw": {"ref": "A9", "name": '=HYPERLINK("x")'}},
        ],
    )


def rejected_csv_url(run):
    return reverse("admin:procurement_feedrun_rejected_csv", args=[run.pk])


def test_staff_download_the_rejected_rows_of_a_run_as_csv(staff_client, run_with_rejections):
    response = staff_client.get(rejected_csv_url(run_with_rejections))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="feed-run-{run_with_rejections.pk}-rejected-rows.csv"'
    )
    lines = response.content.decode().splitlines()
    assert lines == [
        "line,reason,ref,price,name",
        '3,"price: ""-1"" is negative",A2,-1,',
        '7,no valid GTIN,A9,,"\'=HYPERLINK(""x"")"',
    ]


def test_the_run_page_links_to_the_csv_and_says_it_is_a_sample(staff_client, run_with_rejections):
    page = reverse("admin:procurement_feedrun_change", args=[run_with_rejections.pk])
    content = staff_client.get(page).content.decode()
    assert rejected_csv_url(run_with_rejections) in content
    assert "Download 2 rejected rows as CSV (the first 2 of 1500)" in content


def test_a_run_without_rejections_says_so(staff_client):
    run = FeedRunFactory()
    content = staff_client.get(reverse("admin:procurement_feedrun_change", args=[run.pk])).content.decode()
    assert "No rejected rows." in content
    assert rejected_csv_url(run) not in content


def test_the_rejected_rows_download_needs_a_staff_login(client, run_with_rejections):
    response = client.get(rejected_csv_url(run_with_rejections))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_rejected_rows_download_needs_the_view_permission(client, django_user_model, run_with_rejections):
    client.force_login(
        django_user_model.objects.create_user(username="clerk", password="x" * 16, is_staff=True)
    )
    assert client.get(rejected_csv_url(run_with_rejections)).status_code == 403


def test_feed_runs_link_to_their_job_run(staff_client):
    job_run = JobRunFactory()
    FeedRunFactory(job_run=job_run)
    FeedRunFactory(job_run=None)
    content = staff_client.get(reverse("admin:procurement_feedrun_changelist")).content.decode()
    assert f'href="{reverse("admin:genesys_jobrun_change", args=[job_run.pk])}"' in content


def test_offers_last_read_in_a_pruned_run_still_list(staff_client):
    """``last_read_run`` has no constraint (it is cheap to set): pruned runs leave ids."""
    run = FeedRunFactory()
    run_id = run.pk
    kept = SupplierItemFactory(sku="SEEN-1", last_read_run=run)
    dangling = SupplierItemFactory(sku="SEEN-2", last_read_run_id=run_id + 1000)
    run.delete()
    content = staff_client.get(reverse("admin:procurement_supplieritem_changelist")).content.decode()
    assert "SEEN-1" in content and "SEEN-2" in content
    kept.refresh_from_db()
    dangling.refresh_from_db()
    assert (kept.last_read_run_id, dangling.last_read_run_id) == (run_id, run_id + 1000)


def test_offers_filter_by_whether_their_feed_still_lists_them(staff_client):
    SupplierItemFactory(sku="LISTED-1")
    SupplierItemFactory(sku="GONE-1", stock=0, missing_since=timezone.now())
    url = reverse("admin:procurement_supplieritem_changelist")
    listed = staff_client.get(url, {"listed": "yes"}).content.decode()
    missing = staff_client.get(url, {"listed": "no"}).content.decode()
    assert "LISTED-1" in listed and "GONE-1" not in listed
    assert "GONE-1" in missing and "LISTED-1" not in missing


def test_job_runs_link_back_to_their_feed_runs(staff_client):
    job_run = JobRunFactory()
    feed_run = FeedRunFactory(job_run=job_run, feed=SupplierFeedFactory(name="Tarifa"))
    content = staff_client.get(reverse("admin:genesys_jobrun_change", args=[job_run.pk])).content.decode()
    assert f'href="{reverse("admin:procurement_feedrun_change", args=[feed_run.pk])}"' in content
    assert f"#{feed_run.pk} Tarifa" in content


def test_the_preview_page_stops_a_trickling_server_at_its_time_limit(staff_client, feed_server, settings):
    """The preview runs in the web request: a hostile server costs seconds, not the worker."""
    settings.FEED_PREVIEW_MAX_SECONDS = 1
    lines = [f"T{n};;Brand;PN{n};Name;1;1" for n in range(400)]
    feed_server.route("/feed.csv", body=csv_body(*lines), trickle=0.5)  # ~90 minutes for the body
    feed = SupplierFeedFactory(
        source_url=feed_server.url("/feed.csv"),
        format="csv",
        format_options={"delimiter": ";", "timeout": 60, "max_seconds": 3600},
    )
    FeedMapperFactory(feed=feed, profile=CSV_PROFILE)
    started = time.monotonic()
    response = staff_client.get(preview_url(feed))
    assert time.monotonic() - started < 30  # generous for a busy machine
    assert response.status_code == 200
    content = response.content.decode()
    assert (
        f"{feed_server.url('/feed.csv')}: the download took longer than 1 s (FEED_PREVIEW_MAX_SECONDS)."
        in content
    )
    assert "A preview runs inside the web request and stops after 1 s" in content
