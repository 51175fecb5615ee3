"""The job endpoints over the Django test client, with tokens: create, bulk, read, log, cancel,
list, queue statistics and the quick sync, and each of their refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from genesys.jobs.ledger import kill_switch_set, kind_config_get
from genesys.models import JobKindConfig, JobRun
from tests.api.conftest import bearer
from tests.factories import JobRunFactory, JobRunLogFactory
from tests.support.jobs import TEST_KIND, test_kind_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_kind():
    test_kind_register()
    kind_config_get(kind=TEST_KIND)


@pytest.fixture
def api(client, token_for):
    """``api.post(path, body)`` / ``api.get(path)`` as an operator with a token."""
    token = token_for("operator")

    class Api:
        headers = bearer(token)

        def get(self, path, **query):
            return client.get(path, query, headers=self.headers)

        def post(self, path, body=None):
            return client.post(path, body or {}, content_type="application/json", headers=self.headers)

        def delete(self, path):
            return client.delete(path, headers=self.headers)

    return Api()


# --- POST /jobs --------------------------------------------------------------------------------


def test_a_job_is_created_with_its_priority_and_who_asked(api):
    response = api.post("/api/v1/jobs", {"kind": TEST_KIND, "params": {"n": 7}, "priority": "high"})
    assert response.status_code == 201, response.content
    body = response.json()
    run = JobRun.objects.get(pk=body["id"])
    assert (body["kind"], body["key"], body["status"], body["priority"]) == (
        TEST_KIND,
        "test_job:7",
        "queued",
        "high",
    )
    assert body["params"] == {"n": 7} and run.triggered_by.startswith("api:operator-user:")


def test_asking_again_for_a_busy_key_answers_409_with_the_run_already_there(api):
    first = api.post("/api/v1/jobs", {"kind": TEST_KIND, "key": "test_job:3"}).json()
    again = api.post("/api/v1/jobs", {"kind": TEST_KIND, "params": {"n": 3}})
    assert again.status_code == 409
    assert again.json()["code"] == "exists" and again.json()["run"]["id"] == first["id"]
    assert JobRun.objects.filter(key="test_job:3").count() == 1


def test_a_later_time_is_kept_as_not_before(api):
    at = timezone.now() + timedelta(hours=2)
    body = api.post(
        "/api/v1/jobs", {"kind": TEST_KIND, "params": {"n": 1}, "not_before": at.isoformat()}
    ).json()
    assert body["not_before"] is not None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"kind": "no_such_kind"}, "kind", "unknown_kind"),
        ({}, "kind", "invalid"),
        ({"kind": TEST_KIND, "params": {"n": "seven"}}, "params.n", "invalid"),
        ({"kind": TEST_KIND, "params": {"colour": 1}}, "params.colour", "invalid"),
        ({"kind": TEST_KIND, "params": [1]}, "params", "invalid"),
        ({"kind": TEST_KIND, "priority": "asap"}, "priority", "invalid"),
        ({"kind": TEST_KIND, "not_before": "tomorrow"}, "not_before", "invalid"),
        ({"kind": TEST_KIND, "key": "test_job:x"}, "key", "invalid"),
    ],
)
def test_a_bad_request_is_400_and_names_the_field(api, body, field, code):
    response = api.post("/api/v1/jobs", body)
    assert response.status_code == 400, response.content
    assert (response.json()["field"], response.json()["code"]) == (field, code)
    assert response.json()["detail"]
    assert not JobRun.objects.exists()


def test_a_disabled_kind_or_the_kill_switch_is_409_naming_the_kind(api):
    JobKindConfig.objects.filter(kind=TEST_KIND).update(enabled=False)
    disabled = api.post("/api/v1/jobs", {"kind": TEST_KIND})
    assert disabled.status_code == 409 and disabled.json()["code"] == "kind_disabled"
    assert disabled.json()["field"] == "kind"
    JobKindConfig.objects.filter(kind=TEST_KIND).update(enabled=True)
    kill_switch_set(enabled=False, by="test")
    stopped = api.post("/api/v1/jobs", {"kind": TEST_KIND})
    assert stopped.status_code == 409 and stopped.json()["code"] == "kill_switch"
    assert "kill switch" in stopped.json()["detail"]
    assert not JobRun.objects.exists()


def test_errors_are_in_the_operators_language(api):
    api.headers = {**api.headers, "Accept-Language": "pt-pt"}
    response = api.get("/api/v1/jobs/424242")
    assert response.status_code == 404
    assert response.json()["detail"] == "Não existe a execução 424242."


# --- POST /jobs/bulk ---------------------------------------------------------------------------


def test_bulk_answers_each_item_created_existing_or_rejected_in_order(api):
    response = api.post(
        "/api/v1/jobs/bulk",
        {
            "items": [
                {"kind": TEST_KIND, "params": {"n": 1}},
                {"kind": TEST_KIND, "key": "test_job:1"},
                {"kind": "nope"},
                {"kind": TEST_KIND, "params": {"n": 2}, "priority": "low"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["created", "existing", "rejected", "created"]
    assert body["results"][0]["run_id"] == body["results"][1]["run_id"]
    assert body["results"][2]["field"] == "kind" and body["results"][2]["reason"]
    assert (body["created"], body["existing"], body["rejected"]) == (2, 1, 1)
    assert JobRun.objects.get(key="test_job:2").priority == "low"


@pytest.mark.parametrize(
    "body",
    [{"items": []}, {"items": "all"}, {}, {"items": [{"kind": TEST_KIND}] * 101}],
)
def test_bulk_refuses_an_empty_a_missing_or_an_oversized_list(api, body):
    response = api.post("/api/v1/jobs/bulk", body)
    assert response.status_code == 400 and response.json()["field"] == "items"
    assert not JobRun.objects.exists()


def test_bulk_leaves_nothing_half_created_when_the_server_fails_midway(api, monkeypatch):
    from genesys.jobs import requests as job_requests

    real = job_requests.job_request
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(job_requests, "job_request", failing)
    with pytest.raises(RuntimeError):
        api.post("/api/v1/jobs/bulk", {"items": [{"kind": TEST_KIND, "params": {"n": i}} for i in range(3)]})
    assert not JobRun.objects.exists()


# --- GET /jobs/{id} and its log ------------------------------------------------------------------


def test_a_run_shows_its_progress_summary_error_and_last_log_lines(api):
    run = JobRunFactory(
        kind=TEST_KIND,
        status=JobRun.Status.RUNNING,
        started_at=timezone.now(),
        progress={"done": 30, "total": 120, "unit": "rows", "message": "feed: 30 rows"},
        summary={"rows": 30},
    )
    for i in range(25):
        JobRunLogFactory(run=run, stage="page", message=f"line {i}")
    body = api.get(f"/api/v1/jobs/{run.pk}").json()
    assert (body["status"], body["priority"], body["attempt"]) == ("running", "normal", 1)
    assert body["progress"]["done"] == 30 and body["progress"]["total"] == 120
    assert body["progress"]["percent"] == 25.0
    assert body["summary"] == {"rows": 30} and body["error"] == ""
    assert [line["message"] for line in body["log"]] == [f"line {i}" for i in range(5, 25)]


def test_the_log_pages_after_the_last_line_seen(api):
    run = JobRunFactory(kind=TEST_KIND, status=JobRun.Status.RUNNING)
    lines = [JobRunLogFactory(run=run, message=f"line {i}") for i in range(5)]
    first = api.get(f"/api/v1/jobs/{run.pk}/log", limit=3).json()
    assert [line["message"] for line in first["lines"]] == ["line 0", "line 1", "line 2"]
    assert first["live"] and first["next_after"] == lines[2].pk
    rest = api.get(f"/api/v1/jobs/{run.pk}/log", after=first["next_after"]).json()
    assert [line["message"] for line in rest["lines"]] == ["line 3", "line 4"]
    done = api.get(f"/api/v1/jobs/{run.pk}/log", after=rest["next_after"]).json()
    assert done["lines"] == [] and done["next_after"] == rest["next_after"]


@pytest.mark.parametrize("query", [{"after": "-1"}, {"after": "x"}, {"limit": "0"}, {"limit": "5000"}])
def test_a_bad_log_query_is_400(api, query):
    run = JobRunFactory()
    response = api.get(f"/api/v1/jobs/{run.pk}/log", **query)
    assert response.status_code == 400 and response.json()["field"] in query


@pytest.mark.parametrize("path", ["/api/v1/jobs/{id}", "/api/v1/jobs/{id}/log"])
def test_an_unknown_run_is_404(api, path):
    response = api.get(path.format(id=999999))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api.get(path.format(id=2**63)).status_code == 404


# --- cancel ------------------------------------------------------------------------------------


def test_a_queued_run_is_cancelled_now_and_a_finished_one_is_409(api):
    run = api.post("/api/v1/jobs", {"kind": TEST_KIND, "params": {"n": 1}}).json()
    cancelled = api.delete(f"/api/v1/jobs/{run['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/jobs/{run['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "ended" and again.json()["run"]["status"] == "cancelled"


def test_a_running_run_is_asked_to_stop_and_answers_202(api):
    run = JobRunFactory(
        kind=TEST_KIND, key="test_job:9", status=JobRun.Status.RUNNING, started_at=timezone.now()
    )
    response = api.post(f"/api/v1/jobs/{run.pk}/cancel")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "running" and body["cancel_requested_at"] is not None
    assert body["cancel_requested_by"].startswith("api:operator-user")


def test_cancelling_an_unknown_run_is_404(api):
    assert api.delete("/api/v1/jobs/424242").status_code == 404
    assert api.post("/api/v1/jobs/424242/cancel").status_code == 404


# --- GET /jobs ---------------------------------------------------------------------------------


def test_the_list_filters_newest_first_and_pages_with_a_cursor(api):
    old = timezone.now() - timedelta(days=3)
    JobRunFactory(kind="maintenance", key="maintenance", status="success", created_at=old)
    runs = [JobRunFactory(kind=TEST_KIND, key=f"test_job:{i}", status="failed") for i in range(5)]
    JobRunFactory(kind=TEST_KIND, key="test_job:99", status="success")
    page = api.get("/api/v1/jobs", kind=TEST_KIND, status="failed", limit=2).json()
    assert [r["id"] for r in page["results"]] == [runs[4].pk, runs[3].pk]
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = api.get(page["next"].split("testserver")[1]).json()
        seen += [r["id"] for r in page["results"]]
    assert seen == [r.pk for r in reversed(runs)]
    assert [r["key"] for r in api.get("/api/v1/jobs", key="test_job:3").json()["results"]] == ["test_job:3"]
    recent = api.get("/api/v1/jobs", since=(old + timedelta(days=1)).isoformat()).json()["results"]
    assert "maintenance" not in {r["kind"] for r in recent}
    older = api.get("/api/v1/jobs", until=(old + timedelta(days=1)).isoformat()).json()["results"]
    assert [r["kind"] for r in older] == ["maintenance"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-12-02T10:00:00Z", "until": "2026-12-01T10:00:00Z"}, "until"),
    ],
)
def test_a_bad_filter_is_400_naming_it(api, query, field):
    response = api.get("/api/v1/jobs", **query)
    assert response.status_code == 400 and response.json()["field"] == field


def test_a_forged_cursor_is_404(api):
    response = api.get("/api/v1/jobs", cursor="not base64!")
    assert response.status_code == 404 and "cursor" in response.json()["detail"].lower()


# --- GET /queues -------------------------------------------------------------------------------


def test_queues_show_every_queue_every_kind_and_the_kill_switch(api):
    api.post("/api/v1/jobs", {"kind": TEST_KIND, "params": {"n": 1}})
    JobRunFactory(kind=TEST_KIND, key="test_job:8", status="success", finished_at=timezone.now())
    body = api.get("/api/v1/queues").json()
    names = [q["name"] for q in body["queues"]]
    assert names[:2] == ["urgent", "high"] and "low" in names
    for queue in body["queues"]:
        assert set(queue) >= {
            "depth",
            "started",
            "deferred",
            "scheduled",
            "failed",
            "oldest_job_age_seconds",
            "workers",
        }
    kind = next(k for k in body["kinds"] if k["kind"] == TEST_KIND)
    assert kind["queued"] == 1 and kind["last_success"] is not None
    assert body["kill_switch"] is False
    kill_switch_set(enabled=False, by="test")
    assert api.get("/api/v1/queues").json()["kill_switch"] is True
