"""The job wrapper over RQ, with the real Redis and a real RQ worker running jobs in-process."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq.job import Job

from genesys.jobs.enqueue import job_cancel, job_enqueue
from genesys.jobs.ledger import kill_switch_set, kind_config_get
from genesys.jobs.registry import schedule_parse
from genesys.models import JobKindConfig, JobRun, JobRunLog
from tests.support.jobs import CALLS, TEST_KIND, jobs_due_now, jobs_work, runs, test_kind_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_kind():
    test_kind_register()
    CALLS.clear()
    kind_config_get(kind=TEST_KIND)


@pytest.fixture
def enqueue(django_capture_on_commit_callbacks):
    """job_enqueue with its after-commit submission to RQ executed, as in production."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return job_enqueue(kind=TEST_KIND, **kwargs)

    return run


def test_a_job_runs_through_rq_and_leaves_a_run_with_its_log(enqueue):
    run = enqueue(params={"n": 1})
    assert run.status == "queued" and run.key == "test_job:1"
    assert Job.exists(run.rq_job_id, connection=django_rq.get_connection("default"))
    jobs_work("maintenance")
    run.refresh_from_db()
    assert (run.status, run.summary, run.attempt) == ("success", {"done": 1}, 1)
    assert run.started_at and run.finished_at and run.worker_name
    stages = list(JobRunLog.objects.filter(run=run).order_by("id").values_list("stage", flat=True))
    assert stages == ["start", "page", "done"]
    assert CALLS == [{"ran": run.pk, "attempt": 1}, {"after": run.pk, "status": "success"}]


def test_one_active_job_per_key_however_often_it_is_asked(enqueue):
    first = enqueue(params={"n": 7})
    assert enqueue(params={"n": 7}) is None
    assert enqueue(params={"n": 8}) is not None
    jobs_work("maintenance")
    assert enqueue(params={"n": 7}) is not None  # the first one is over
    assert JobRun.objects.filter(key="test_job:7").count() == 2
    assert first.pk != JobRun.objects.filter(key="test_job:7").latest("id").pk


def test_nothing_reaches_rq_before_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = job_enqueue(kind=TEST_KIND, params={"n": 2})
    assert len(callbacks) == 1
    assert not Job.exists(run.rq_job_id, connection=django_rq.get_connection("default"))


def test_failures_retry_with_the_kinds_backoff_and_stop_at_the_limit(enqueue):
    enqueue(params={"n": 3, "fail": True})
    jobs_work("maintenance")
    first, retry = runs(key="test_job:3")
    assert (first.status, first.attempt) == ("failed", 1)
    assert "boom on attempt 1" in first.error
    assert (retry.status, retry.attempt, retry.triggered_by) == ("queued", 2, "retry")
    assert abs((retry.scheduled_for - first.finished_at).total_seconds() - 30) < 2
    jobs_due_now()
    jobs_work("maintenance")
    _, second, third = runs(key="test_job:3")
    assert second.status == "failed"
    assert abs((third.scheduled_for - second.finished_at).total_seconds() - 120) < 2
    jobs_due_now()
    jobs_work("maintenance")
    assert [r.status for r in runs(key="test_job:3")] == ["failed", "failed", "failed"]
    assert CALLS[-1] == {"after": third.pk, "status": "failed"}  # the regular schedule goes on
    assert sum(1 for c in CALLS if "after" in c) == 1


def test_a_job_may_skip_or_warn(enqueue):
    enqueue(params={"n": 4, "skip": True})
    enqueue(params={"n": 5, "warn": True})
    jobs_work("maintenance")
    assert runs(key="test_job:4")[0].status == "skipped"
    assert len(runs(key="test_job:4")) == 1  # no retry
    assert runs(key="test_job:5")[0].status == "warning"


def test_the_kill_switch_skips_jobs_and_keeps_the_schedule(enqueue):
    run = enqueue(params={"n": 6})
    kill_switch_set(enabled=False, by="test")
    jobs_work("maintenance")
    run.refresh_from_db()
    assert (run.status, run.summary) == ("skipped", {"skipped": "kill switch is on"})
    assert CALLS == [{"after": run.pk, "status": "skipped"}]  # the next run is still scheduled
    kill_switch_set(enabled=True, by="test")


def test_a_disabled_kind_is_skipped_without_restarting_anything(enqueue):
    JobKindConfig.objects.filter(kind=TEST_KIND).update(enabled=False)
    run = enqueue(params={"n": 9})
    jobs_work("maintenance")
    run.refresh_from_db()
    assert run.summary == {"skipped": "kind disabled"}


def test_max_concurrency_defers_a_job_until_a_slot_is_free(enqueue):
    JobRun.objects.create(kind=TEST_KIND, key="test_job:99", status="running", started_at=timezone.now())
    run = enqueue(params={"n": 10})
    jobs_work("maintenance")
    run.refresh_from_db()
    assert run.status == "queued"  # waiting, not failed
    assert run.scheduled_for > timezone.now()
    assert "already running" in JobRunLog.objects.filter(run=run).latest("id").message
    queue = django_rq.get_queue("maintenance")
    assert run.rq_job_id in queue.scheduled_job_registry.get_job_ids()
    JobRun.objects.filter(key="test_job:99").update(status="success", finished_at=timezone.now())
    jobs_due_now()
    jobs_work("maintenance")
    run.refresh_from_db()
    assert run.status == "success"


def test_cancelling_removes_the_queued_job(enqueue):
    run = enqueue(params={"n": 11}, at=timezone.now() + timedelta(hours=1))
    assert job_cancel(key="test_job:11", reason="test") == 1
    run.refresh_from_db()
    assert (run.status, run.summary) == ("skipped", {"cancelled": "test"})


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", None),
        ("every 30s", ("every", 30)),
        ("every 5m", ("every", 300)),
        ("0 3 * * *", ("cron", "0 3 * * *")),
    ],
)
def test_schedules(text, parsed):
    assert schedule_parse(text) == parsed


def test_invalid_schedules_say_why():
    with pytest.raises(ValueError, match="neither a cron expression"):
        schedule_parse("daily at 3")


@pytest.mark.django_db
def test_progress_drops_the_query_text_django_keeps_under_debug(settings):
    """A job has no request to end, so under DEBUG its queries would pile up for hours."""
    from django.db import connection

    from genesys.jobs.context import JobContext
    from tests.factories import JobRunFactory

    settings.DEBUG = True
    run = JobRunFactory(status=JobRun.Status.RUNNING)
    context = JobContext(run=run, config=kind_config_get(kind=run.kind))
    JobRun.objects.filter(pk=run.pk).exists()
    assert connection.queries
    context.progress("page 1 read")
    assert connection.queries == []
    assert JobRunLog.objects.filter(run=run, message="page 1 read").exists()
