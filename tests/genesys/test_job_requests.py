"""Jobs asked for from outside (the API's services): checked requests, bulk, cancellation."""

from datetime import timedelta

import django_rq
import pytest
from django.db import DatabaseError
from django.utils import timezone
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from genesys.jobs import context
from genesys.jobs.ledger import kill_switch_set, kind_config_get
from genesys.jobs.requests import (
    JobNotCancellable,
    JobRequestError,
    job_request,
    job_requests_bulk,
    job_run_cancel,
)
from genesys.jobs.stopping import run_stop_flag_get
from genesys.models import JobKindConfig, JobRun
from tests.support.jobs import CALLS, TEST_KIND, jobs_work, test_kind_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_kind():
    test_kind_register()
    CALLS.clear()
    kind_config_get(kind=TEST_KIND)


@pytest.fixture
def request_job(django_capture_on_commit_callbacks):
    """job_request with its after-commit work (RQ submission) executed, as in production."""

    def call(**kwargs):
        kwargs.setdefault("kind", TEST_KIND)
        kwargs.setdefault("by", "api:alice")
        with django_capture_on_commit_callbacks(execute=True):
            return job_request(**kwargs)

    return call


def rq_job(run: JobRun) -> Job:
    return Job.fetch(run.rq_job_id, connection=django_rq.get_connection("default"), serializer=JSONSerializer)


def test_a_request_creates_a_queued_run_on_the_queue_of_its_priority(request_job):
    run, created = request_job(params={"n": 1}, priority="urgent")
    assert created and (run.status, run.key, run.priority, run.triggered_by) == (
        "queued",
        "test_job:1",
        "urgent",
        "api:alice",
    )
    assert rq_job(run).origin == "urgent"
    normal, _ = request_job(params={"n": 2})
    assert rq_job(normal).origin == "maintenance"  # the kind's own queue
    low, _ = request_job(params={"n": 3}, priority="low")
    assert rq_job(low).origin == "low"
    jobs_work("urgent", "low", "maintenance")
    assert set(JobRun.objects.values_list("status", flat=True)) == {"success"}


def test_the_same_key_twice_returns_the_existing_run_not_a_second_one(request_job):
    first, created = request_job(params={"n": 5})
    again, created_again = request_job(params={"n": 5})
    assert created and not created_again and again.pk == first.pk
    assert JobRun.objects.filter(key="test_job:5").count() == 1


def test_asking_sooner_or_more_urgently_moves_the_queued_run_forward(request_job):
    later = timezone.now() + timedelta(hours=1)
    run, _ = request_job(params={"n": 6}, not_before=later)
    assert rq_job(run).get_status() == JobStatus.SCHEDULED
    old_job_id = run.rq_job_id
    same, created = request_job(params={"n": 6}, priority="urgent")
    assert not created and same.pk == run.pk
    assert (same.priority, same.scheduled_for) == ("urgent", None)
    assert same.rq_job_id != old_job_id and rq_job(same).origin == "urgent"
    assert Job.fetch(old_job_id, connection=django_rq.get_connection("default")).get_status() == "canceled"
    jobs_work("urgent")
    same.refresh_from_db()
    assert same.status == "success"


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"kind": "no_such_kind"}, "kind", "unknown_kind"),
        ({"params": {"n": "seven"}}, "params.n", "invalid"),
        ({"params": {"colour": "red"}}, "params.colour", "invalid"),
        ({"params": ["n"]}, "params", "invalid"),
        ({"priority": "asap"}, "priority", "invalid"),
        ({"params": {"n": 1}, "key": "test_job:2"}, "key", "invalid"),
        ({"not_before": timezone.now().replace(tzinfo=None)}, "not_before", "invalid"),
        ({"after_run_id": 999_999}, "after_run_id", "not_found"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(request_job, kwargs, field, code):
    with pytest.raises(JobRequestError) as refused:
        request_job(**kwargs)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert refused.value.message
    assert not JobRun.objects.exists()


def test_a_key_alone_names_the_parameters_of_a_per_key_kind(request_job):
    run, created = request_job(key="test_job:9")
    assert created and run.params == {"n": 9}


def test_a_disabled_kind_and_the_kill_switch_refuse_requests(request_job):
    JobKindConfig.objects.filter(kind=TEST_KIND).update(enabled=False)
    with pytest.raises(JobRequestError) as disabled:
        request_job()
    assert (disabled.value.field, disabled.value.code) == ("kind", "kind_disabled")
    JobKindConfig.objects.filter(kind=TEST_KIND).update(enabled=True)
    kill_switch_set(enabled=False, by="ops")
    with pytest.raises(JobRequestError) as stopped:
        request_job()
    assert stopped.value.code == "kill_switch"
    assert not JobRun.objects.exists()


def test_a_run_after_another_waits_until_that_one_has_ended(request_job):
    first, _ = request_job(params={"n": 1})
    second, _ = request_job(params={"n": 2}, after_run_id=first.pk)
    assert second.after_run_id == first.pk
    assert rq_job(second).get_status() == JobStatus.DEFERRED  # RQ holds it
    jobs_work("maintenance")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "success"
    assert second.started_at >= first.finished_at


def test_bulk_answers_each_item_on_its_own(request_job, django_capture_on_commit_callbacks):
    existing, _ = request_job(params={"n": 1})
    with django_capture_on_commit_callbacks(execute=True):
        results = job_requests_bulk(
            items=[
                {"kind": TEST_KIND, "params": {"n": 1}},
                {
                    "kind": TEST_KIND,
                    "params": {"n": 2},
                    "priority": "high",
                    "not_before": "2020-01-01T00:00:00Z",
                },
                {"kind": "nope"},
                {"kind": TEST_KIND, "params": {"n": 3}, "colour": "red"},
                "not an object",
            ],
            by="api:bob",
        )
    assert [r["status"] for r in results] == ["existing", "created", "rejected", "rejected", "rejected"]
    assert results[0]["run_id"] == existing.pk
    assert [r.get("field") for r in results[2:]] == ["kind", "colour", "item"]
    created = JobRun.objects.get(pk=results[1]["run_id"])
    assert (created.priority, created.triggered_by) == ("high", "api:bob")
    assert rq_job(created).origin == "high"


def test_bulk_refuses_too_many_items():
    with pytest.raises(JobRequestError) as refused:
        job_requests_bulk(items=[{"kind": TEST_KIND, "params": {"n": n}} for n in range(101)], by="x")
    assert (refused.value.field, refused.value.code) == ("items", "too_many")


def test_bulk_leaves_nothing_created_on_a_server_error(monkeypatch, django_capture_on_commit_callbacks):
    from genesys.jobs import requests

    real = requests.job_request

    def failing(**kwargs):
        if kwargs["params"] == {"n": 3}:
            raise DatabaseError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(requests, "job_request", failing)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(DatabaseError):
        job_requests_bulk(items=[{"kind": TEST_KIND, "params": {"n": n}} for n in range(1, 5)], by="x")
    assert not JobRun.objects.exists()
    assert not callbacks  # nothing was enqueued either


def test_a_queued_run_cancelled_leaves_rq_and_what_follows_carries_on(
    request_job, django_capture_on_commit_callbacks
):
    run, _ = request_job(params={"n": 1}, not_before=timezone.now() + timedelta(minutes=30))
    follower, _ = request_job(params={"n": 2}, after_run_id=run.pk)
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = job_run_cancel(run_id=run.pk, by="api:alice")
    assert (cancelled.status, cancelled.cancel_requested_by) == ("cancelled", "api:alice")
    assert cancelled.finished_at and cancelled.summary == {"cancelled_by": "api:alice"}
    redis = django_rq.get_connection("default")
    assert rq_job(run).get_status() == JobStatus.CANCELED
    assert run.rq_job_id not in django_rq.get_queue("maintenance").scheduled_job_registry.get_job_ids()
    assert redis.zscore(django_rq.get_queue("maintenance").scheduled_job_registry.key, run.rq_job_id) is None
    assert CALLS == [{"after": run.pk, "status": "cancelled"}]  # the kind's after-hook ran
    jobs_work("maintenance")
    follower.refresh_from_db()
    assert follower.status == "success"  # no longer waiting for a run that will never start
    with pytest.raises(JobNotCancellable):
        job_run_cancel(run_id=run.pk, by="api:alice")
    with pytest.raises(JobRun.DoesNotExist):
        job_run_cancel(run_id=999_999, by="api:alice")


def test_a_running_run_cancelled_stops_at_its_next_safe_point_and_is_not_retried(request_job, monkeypatch):
    monkeypatch.setattr(context, "STOP_CHECK_EVERY_SECONDS", 0)  # read the request on the run at once
    monkeypatch.setattr(context, "PROGRESS_LOG_EVERY_SECONDS", 0)
    run, _ = request_job(params={"steps": 10, "cancel_at": 4})
    jobs_work("maintenance")
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert run.summary == {"steps_done": 4, "cancelled_by": "operator-in-test"}
    assert run.progress["done"] == 4 and run.progress["total"] == 10
    assert JobRun.objects.count() == 1  # no retry
    assert CALLS[-1] == {"after": run.pk, "status": "cancelled"}
    with pytest.raises(JobNotCancellable):
        job_run_cancel(run_id=run.pk, by="x")


def test_a_job_failing_while_it_stops_ends_cancelled_without_a_retry(request_job, monkeypatch):
    monkeypatch.setattr(context, "STOP_CHECK_EVERY_SECONDS", 0)
    run, _ = request_job(params={"steps": 10, "cancel_at": 2, "fail_when_stopped": True})
    jobs_work("maintenance")
    run.refresh_from_db()
    assert run.status == "cancelled" and "failed while stopping" in run.error
    assert JobRun.objects.count() == 1


def test_the_redis_flag_stops_a_job_within_a_fraction_of_a_second(request_job):
    """Without waiting for the run record's periodic check: the flag is read at each safe point."""
    from genesys.jobs.context import JobContext
    from genesys.jobs.stopping import run_stop_flag_set

    run, _ = request_job(params={"n": 1})
    ctx = JobContext(run=run, config=kind_config_get(kind=TEST_KIND))
    assert not ctx.stop_requested()
    run_stop_flag_set(run_id=run.pk, by="api:alice")
    ctx._last_flag_check = 0.0
    assert ctx.stop_requested() and ctx.cancelled


def test_cancelling_a_running_run_twice_keeps_the_first_request(
    request_job, django_capture_on_commit_callbacks
):
    run, _ = request_job(params={"n": 1})
    JobRun.objects.filter(pk=run.pk).update(status="running", started_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        first = job_run_cancel(run_id=run.pk, by="alice")
    with django_capture_on_commit_callbacks(execute=True):
        second = job_run_cancel(run_id=run.pk, by="bob")
    assert first.status == second.status == "running"
    assert second.cancel_requested_by == "alice" and second.cancel_requested_at == first.cancel_requested_at
    assert run_stop_flag_get(run_id=run.pk)
