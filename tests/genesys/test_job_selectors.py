"""Reads for the API and the admin: the log page by page, progress, queue statistics."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq import Queue, Worker
from rq.serializers import JSONSerializer

from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.ledger import kill_switch_set, kind_config_get
from genesys.jobs.selectors import queues_stats, run_log_page, run_progress
from genesys.models import JobRun, JobRunLog
from tests.support.jobs import TEST_KIND, test_kind_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_kind():
    test_kind_register()
    kind_config_get(kind=TEST_KIND)


def test_the_log_is_read_page_by_page_after_the_last_line_seen():
    run = JobRun.objects.create(kind=TEST_KIND, key="test_job:1", status="running")
    lines = [JobRunLog.objects.create(run=run, stage="page", message=f"line {n}") for n in range(5)]
    JobRunLog.objects.create(
        run=JobRun.objects.create(kind=TEST_KIND, key="other"), stage="page", message="x"
    )
    first = run_log_page(run_id=run.pk, limit=2)
    assert [line.message for line in first] == ["line 0", "line 1"]
    rest = run_log_page(run_id=run.pk, after=first[-1].pk, limit=200)
    assert [line.pk for line in rest] == [line.pk for line in lines[2:]]
    assert run_log_page(run_id=run.pk, after=lines[-1].pk) == []
    assert len(run_log_page(run_id=run.pk, limit=10**9)) == 5  # the cap applies, it does not fail


def test_progress_says_how_far_a_run_is_where_the_total_is_known():
    running = JobRun(status="running", progress={"done": 250, "total": 1000, "unit": "rows", "message": "m"})
    assert run_progress(run=running) == {
        "done": 250,
        "total": 1000,
        "unit": "rows",
        "percent": 25.0,
        "message": "m",
    }
    streaming = JobRun(status="running", progress={"done": 250, "total": None, "unit": "rows"})
    assert run_progress(run=streaming)["percent"] is None
    assert run_progress(run=JobRun(status="success"))["percent"] == 100.0
    assert run_progress(run=JobRun(status="queued"))["done"] is None


def test_queue_stats_count_each_queue_and_kind_and_show_the_kill_switch(
    redis_conn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue(kind=TEST_KIND, params={"n": 1}, priority="urgent")
        job_enqueue(kind=TEST_KIND, params={"n": 2}, at=timezone.now() + timedelta(hours=1))
    JobRun.objects.create(
        kind=TEST_KIND,
        key="test_job:9",
        status="failed",
        finished_at=timezone.now(),
        created_at=timezone.now(),
    )
    worker = Worker(
        [Queue("urgent", connection=redis_conn, serializer=JSONSerializer)],
        connection=redis_conn,
        name="stats-w",
    )
    worker.register_birth()
    kill_switch_set(enabled=False, by="ops")
    stats = queues_stats()
    by_name = {queue["name"]: queue for queue in stats["queues"]}
    assert list(by_name)[:2] == ["urgent", "high"] and list(by_name)[-2:] == ["low", "default"]
    assert by_name["urgent"]["depth"] == 1 and by_name["urgent"]["workers"] == ["stats-w"]
    assert by_name["urgent"]["oldest_job_age_seconds"] is not None
    assert by_name["maintenance"]["scheduled"] == 1 and by_name["maintenance"]["depth"] == 0
    assert by_name["high"]["oldest_job_age_seconds"] is None
    assert {"started", "deferred", "failed"} <= set(by_name["low"])
    kind = next(line for line in stats["kinds"] if line["kind"] == TEST_KIND)
    assert (kind["queued"], kind["running"]) == (2, 0) and kind["last_failure"] is not None
    assert stats["kill_switch"] is True and stats["workers"] == 1
    worker.register_death()
    assert django_rq.get_connection("default") is not None
