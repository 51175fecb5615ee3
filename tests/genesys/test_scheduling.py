"""Delayed runs whose scheduler died: stale locks freed, overdue runs released, and reported."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq.scheduler import RQScheduler

from genesys.health import check_scheduler
from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.ledger import kind_config_get
from genesys.jobs.scheduler import periodic_tick
from genesys.jobs.scheduling import SCHEDULER_LOCK_TTL, scheduled_runs_release, scheduler_locks_reclaim
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobRun
from tests.support.jobs import TEST_KIND, jobs_work, test_kind_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_kind():
    test_kind_register()
    kind_config_get(kind=TEST_KIND)


def scheduled_run(django_capture_on_commit_callbacks, *, late_by: float, n: int = 1) -> JobRun:
    """A queued run in RQ's scheduled registry, ``late_by`` seconds past its time."""
    with django_capture_on_commit_callbacks(execute=True):
        run = job_enqueue(kind=TEST_KIND, params={"n": n}, at=timezone.now() + timedelta(hours=1))
    due = timezone.now() - timedelta(seconds=late_by)
    JobRun.objects.filter(pk=run.pk).update(scheduled_for=due)
    queue = django_rq.get_queue("maintenance")
    queue.connection.zadd(queue.scheduled_job_registry.key, {run.rq_job_id: due.timestamp()}, xx=True)
    return run


def lock_key(queue: str) -> str:
    return RQScheduler.get_locking_key(queue)


def test_an_overdue_scheduled_run_is_released_once_and_runs(django_capture_on_commit_callbacks):
    run = scheduled_run(django_capture_on_commit_callbacks, late_by=30)
    queue = django_rq.get_queue("maintenance")
    assert scheduled_runs_release() == [run.pk]
    assert scheduled_runs_release() == []  # idempotent: no second copy on the queue
    assert queue.job_ids == [run.rq_job_id]
    assert run.rq_job_id not in queue.scheduled_job_registry.get_job_ids()
    assert not queue.connection.exists(lock_key("maintenance"))  # the tick let go of the lock
    jobs_work("maintenance")
    run.refresh_from_db()
    assert run.status == "success"


def test_runs_not_yet_due_or_just_due_are_left_to_rq(django_capture_on_commit_callbacks):
    scheduled_run(django_capture_on_commit_callbacks, late_by=-60)
    scheduled_run(django_capture_on_commit_callbacks, late_by=0.5, n=2)  # RQ's scheduler's second
    assert scheduled_runs_release() == []


def test_a_live_scheduler_keeps_its_queue(django_capture_on_commit_callbacks, redis_conn):
    scheduled_run(django_capture_on_commit_callbacks, late_by=30)
    redis_conn.set(lock_key("maintenance"), "live-scheduler", ex=SCHEDULER_LOCK_TTL)
    assert scheduled_runs_release() == []
    assert redis_conn.get(lock_key("maintenance")) == b"live-scheduler"


def test_a_lock_nobody_refreshed_is_freed_and_its_runs_released(
    django_capture_on_commit_callbacks, redis_conn, settings
):
    settings.JOBS_SCHEDULER_STALE_SECONDS = 10
    run = scheduled_run(django_capture_on_commit_callbacks, late_by=30)
    redis_conn.set(lock_key("maintenance"), "dead-scheduler", ex=SCHEDULER_LOCK_TTL - 12)
    assert periodic_tick()["released"] == [run.pk]
    assert not redis_conn.exists(lock_key("maintenance"))


def test_only_stale_locks_are_reclaimed(redis_conn, settings):
    settings.JOBS_SCHEDULER_STALE_SECONDS = 10
    redis_conn.set(lock_key("ingest"), "fresh", ex=SCHEDULER_LOCK_TTL - 2)
    redis_conn.set(lock_key("sync"), "stale", ex=SCHEDULER_LOCK_TTL - 20)
    redis_conn.set(lock_key("catalog"), "forever")
    freed = scheduler_locks_reclaim(
        connection=redis_conn, queues=["ingest", "sync", "catalog", "maintenance"]
    )
    assert freed == ["sync", "catalog"]
    assert redis_conn.get(lock_key("ingest")) == b"fresh"


def test_overdue_scheduled_jobs_make_healthz_fail_and_the_watchdog_release_them(
    django_capture_on_commit_callbacks, settings
):
    settings.JOBS_SCHEDULED_OVERDUE_SECONDS = 60
    scheduled_run(django_capture_on_commit_callbacks, late_by=10)
    assert check_scheduler()["overdue_scheduled_jobs"] == 0
    late = scheduled_run(django_capture_on_commit_callbacks, late_by=120, n=2)
    report = check_scheduler()
    assert report["overdue_scheduled_jobs"] == 1 and report["ok"] is False
    assert jobs_watchdog().overdue == [late.pk]
    assert check_scheduler()["overdue_scheduled_jobs"] == 0


def test_a_run_whose_job_says_scheduled_but_left_the_registry_is_resubmitted(
    django_capture_on_commit_callbacks, redis_conn
):
    run = scheduled_run(django_capture_on_commit_callbacks, late_by=600)
    JobRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    queue = django_rq.get_queue("maintenance")
    redis_conn.zrem(queue.scheduled_job_registry.key, run.rq_job_id)  # lost half-way through a move
    assert jobs_watchdog().resubmitted == [run.pk]
    assert queue.job_ids == [run.rq_job_id]
