"""The ledger in the admin: run pages with a live log, kind configuration, the kill switch."""

import pytest
from django.test import Client
from django.urls import reverse

from genesys.models import JobRun, JobRunLog

pytestmark = pytest.mark.django_db


def test_run_page_has_a_terminal_fed_by_a_staff_only_log_endpoint(staff_client):
    run = JobRun.objects.create(kind="maintenance", key="maintenance", status="running")
    first = JobRunLog.objects.create(run=run, stage="start", message="attempt 1")
    JobRunLog.objects.create(run=run, stage="page", message="pruned 10 rows")
    page = staff_client.get(reverse("admin:genesys_jobrun_change", args=[run.pk])).content.decode()
    assert "run-terminal" in page
    url = reverse("admin:genesys_jobrun_log", args=[run.pk])
    data = staff_client.get(url).json()
    assert data["live"] is True
    assert [line["message"] for line in data["lines"]] == ["attempt 1", "pruned 10 rows"]
    assert [line["message"] for line in staff_client.get(url, {"after": first.pk}).json()["lines"]] == [
        "pruned 10 rows"
    ]
    assert Client().get(url).status_code == 302


def test_invalid_schedules_are_refused_in_the_admin(staff_client):
    from genesys.models import JobKindConfig

    config = JobKindConfig.objects.get(kind="maintenance")
    url = reverse("admin:genesys_jobkindconfig_change", args=[config.pk])
    data = {
        "kind": "maintenance", "enabled": "on", "max_concurrency": "1", "retry_attempts": "1",
        "retry_backoff_seconds": "[600]", "timeout_seconds": "1800", "stale_after_seconds": "3600",
        "schedule": "every tuesday",
    }  # fmt: skip
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "neither a cron expression" in response.content.decode()
    data["schedule"] = "every 2h"
    assert staff_client.post(url, data).status_code == 302
    config.refresh_from_db()
    assert config.schedule == "every 2h"


def test_runs_are_filtered_by_kind_status_and_key(staff_client):
    JobRun.objects.create(kind="maintenance", key="maintenance", status="failed")
    JobRun.objects.create(kind="supplier_ingest", key="supplier_ingest:7", status="success")
    url = reverse("admin:genesys_jobrun_changelist")
    assert "supplier_ingest:7" not in staff_client.get(url, {"kind": "maintenance"}).content.decode()
    assert "supplier_ingest:7" in staff_client.get(url, {"status": "success"}).content.decode()
    assert "supplier_ingest:7" in staff_client.get(url, {"q": "supplier_ingest:7"}).content.decode()


def test_a_kind_can_be_run_now_from_the_admin(staff_client, django_capture_on_commit_callbacks):
    from genesys.models import JobKindConfig

    ids = list(
        JobKindConfig.objects.filter(kind__in=["maintenance", "supplier_ingest"]).values_list("pk", flat=True)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:genesys_jobkindconfig_changelist"),
            {"action": "run_now", "_selected_action": ids},
            follow=True,
        )
    page = response.content.decode()
    assert "Queued: maintenance" in page and "run per supplier" in page
    assert (
        JobRun.objects.filter(kind="maintenance", status="queued", triggered_by="admin:operator").count() == 1
    )


def test_runs_show_their_priority_and_can_be_filtered_by_it(staff_client):
    JobRun.objects.create(kind="maintenance", key="maintenance", status="success", priority="low")
    JobRun.objects.create(
        kind="supplier_ingest", key="supplier_ingest:7", status="success", priority="urgent"
    )
    url = reverse("admin:genesys_jobrun_changelist")
    page = staff_client.get(url, {"priority": "urgent"}).content.decode()
    assert "supplier_ingest:7" in page and "maintenance</a>" not in page
    assert "Urgent" in page


def test_the_cancel_action_cancels_queued_runs_asks_running_ones_and_reports_ended_ones(
    role_client, django_capture_on_commit_callbacks
):
    client = role_client("operator")
    queued = JobRun.objects.create(kind="maintenance", key="maintenance", status="queued")
    running = JobRun.objects.create(kind="supplier_ingest", key="supplier_ingest:1", status="running")
    ended = JobRun.objects.create(kind="supplier_ingest", key="supplier_ingest:2", status="success")
    url = reverse("admin:genesys_jobrun_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"action": "cancel_runs", "_selected_action": [queued.pk, running.pk, ended.pk]}, follow=True
        )
    text = response.content.decode()
    queued.refresh_from_db()
    running.refresh_from_db()
    assert queued.status == "cancelled" and queued.cancel_requested_by == "admin:operator-user"
    assert running.status == "running" and running.cancel_requested_at is not None
    assert f"Cancelled: runs {queued.pk}." in text
    assert f"Asked to stop: runs {running.pk}" in text
    assert f"nothing to cancel: runs {ended.pk}." in text


def test_run_now_in_the_admin_is_urgent(role_client):
    from genesys.models import JobKindConfig

    config = JobKindConfig.objects.get(kind="maintenance")
    role_client("operator").post(
        reverse("admin:genesys_jobkindconfig_changelist"),
        {"action": "run_now", "_selected_action": [config.pk]},
    )
    assert JobRun.objects.get(kind="maintenance").priority == "urgent"
