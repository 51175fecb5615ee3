"""The periodic tick, the watchdog and the cron configuration."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq.job import Job
from rq.serializers import JSONSerializer

from genesys.jobs.causes import run_cause_leave
from genesys.jobs.ledger import kill_switch_set, kind_config_get
from genesys.jobs.scheduler import CRON_HEARTBEAT_KEY, periodic_tick, schedule_due
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobKindConfig, JobRun
from tests.support.jobs import TEST_KIND, jobs_work, test_kind_register

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture(autouse=True)
def test_kind():
    test_kind_register()
    kind_config_get(kind=TEST_KIND)


def schedule(kind, text):
    JobKindConfig.objects.filter(kind=kind).update(schedule=text, updated_at=NOW - timedelta(days=2))


def test_cron_schedules_are_due_after_their_next_fire_time():
    schedule(TEST_KIND, "0 3 * * *")
    config = kind_config_get(kind=TEST_KIND)
    assert schedule_due(kind=TEST_KIND, schedule=("cron", "0 3 * * *"), since=config.updated_at, now=NOW)
    JobRun.objects.create(kind=TEST_KIND, key="x", status="success", triggered_by="schedule", created_at=NOW)
    assert not schedule_due(kind=TEST_KIND, schedule=("cron", "0 3 * * *"), since=config.updated_at, now=NOW)
    later = NOW + timedelta(days=1, hours=1)
    assert schedule_due(kind=TEST_KIND, schedule=("cron", "0 3 * * *"), since=config.updated_at, now=later)


def test_intervals_are_due_every_so_often():
    since = NOW - timedelta(days=1)
    assert schedule_due(kind=TEST_KIND, schedule=("every", 30), since=since, now=NOW)
    JobRun.objects.create(kind=TEST_KIND, key="x", status="success", triggered_by="schedule", created_at=NOW)
    assert not schedule_due(
        kind=TEST_KIND, schedule=("every", 30), since=since, now=NOW + timedelta(seconds=29)
    )
    assert schedule_due(kind=TEST_KIND, schedule=("every", 30), since=since, now=NOW + timedelta(seconds=30))


def test_the_tick_starts_due_periodic_jobs_once_however_often_it_ticks(redis_conn):
    JobKindConfig.objects.exclude(kind=TEST_KIND).update(schedule="")
    schedule(TEST_KIND, "every 1h")
    first = periodic_tick()
    second = periodic_tick()
    assert first["enqueued"] == [TEST_KIND]
    assert second["enqueued"] == []
    assert JobRun.objects.filter(kind=TEST_KIND).count() == 1
    assert redis_conn.get(CRON_HEARTBEAT_KEY)


def test_the_kill_switch_stops_the_tick_from_starting_anything():
    schedule(TEST_KIND, "every 1s")
    kill_switch_set(enabled=False, by="test")
    assert periodic_tick() == {"enqueued": [], "released": [], "kill_switch": True}
    assert not JobRun.objects.filter(kind=TEST_KIND).exists()


def test_kinds_with_nothing_to_do_are_not_started():
    JobKindConfig.objects.exclude(kind="catalog_sync").update(schedule="")
    schedule("catalog_sync", "every 10s")
    periodic_tick()
    assert not JobRun.objects.filter(kind="catalog_sync").exists()  # the stream is empty


def test_the_watchdog_abandons_a_run_whose_worker_vanished_and_reschedules_it(settings):
    settings.JOBS_HEARTBEAT_GRACE_SECONDS = 60
    run = JobRun.objects.create(
        kind=TEST_KIND, key="test_job:1", params={"n": 1}, status="running",
        started_at=NOW - timedelta(minutes=5), heartbeat_at=NOW - timedelta(minutes=2), worker_name="gone",
    )  # fmt: skip
    result = jobs_watchdog(now=NOW)
    run.refresh_from_db()
    assert run.status == "abandoned"
    assert "worker gone vanished" in run.error
    assert result.abandoned == [run.pk]
    retry = JobRun.objects.get(pk=result.rescheduled[0])
    assert (retry.status, retry.attempt, retry.key) == ("queued", 2, "test_job:1")


def test_the_watchdog_records_the_cause_a_worker_left_before_dying(settings, redis_conn):
    settings.JOBS_HEARTBEAT_GRACE_SECONDS = 60
    run = JobRun.objects.create(
        kind=TEST_KIND, key="test_job:1", params={"n": 1}, status="running",
        started_at=NOW - timedelta(minutes=5), heartbeat_at=NOW - timedelta(minutes=2), worker_name="w1",
    )  # fmt: skip
    cause = "Traceback (most recent call last):\n  ...\nOperationalError: connection to server failed"
    run_cause_leave(run_id=run.pk, error=cause)
    jobs_watchdog(now=NOW)
    run.refresh_from_db()
    assert run.status == "abandoned"
    assert run.error.startswith("worker w1 stopped before it could record this failure:")
    assert run.error.endswith(cause) and "vanished" not in run.error
    assert run.logs.filter(stage="error", message="OperationalError: connection to server failed").exists()
    assert not redis_conn.exists(f"genesys:run:{run.pk}:cause")


def test_the_watchdog_leaves_beating_runs_alone_until_stale_after(settings):
    settings.JOBS_HEARTBEAT_GRACE_SECONDS = 60
    JobKindConfig.objects.filter(kind=TEST_KIND).update(stale_after_seconds=600)
    beat = NOW - timedelta(seconds=5)
    fresh = JobRun.objects.create(
        kind=TEST_KIND, key="a", status="running", started_at=NOW - timedelta(minutes=5), heartbeat_at=beat
    )
    hung = JobRun.objects.create(
        kind=TEST_KIND, key="b", status="running", started_at=NOW - timedelta(minutes=11), heartbeat_at=beat
    )
    jobs_watchdog(now=NOW)
    fresh.refresh_from_db()
    hung.refresh_from_db()
    assert fresh.status == "running"
    assert (hung.status, hung.error) == ("abandoned", "still running after 600 s (stale_after)")


def test_a_cancelled_run_whose_worker_vanished_ends_cancelled_and_is_not_retried(settings):
    settings.JOBS_HEARTBEAT_GRACE_SECONDS = 60
    run = JobRun.objects.create(
        kind=TEST_KIND, key="test_job:1", params={"n": 1}, status="running", worker_name="gone",
        started_at=NOW - timedelta(minutes=5), heartbeat_at=NOW - timedelta(minutes=2),
        cancel_requested_at=NOW - timedelta(minutes=3), cancel_requested_by="api:alice",
    )  # fmt: skip
    result = jobs_watchdog(now=NOW)
    run.refresh_from_db()
    assert run.status == "cancelled" and "vanished" in run.error
    assert (result.cancelled, result.abandoned, result.rescheduled) == ([run.pk], [], [])
    assert JobRun.objects.count() == 1


def test_a_cancelled_run_that_never_reaches_a_safe_point_is_stopped_by_force_after_the_grace(settings):
    settings.JOBS_HEARTBEAT_GRACE_SECONDS = 60
    settings.JOBS_CANCEL_FORCE_SECONDS = 300
    beat = NOW - timedelta(seconds=5)
    patient = JobRun.objects.create(
        kind=TEST_KIND, key="a", status="running", started_at=NOW - timedelta(minutes=10), heartbeat_at=beat,
        cancel_requested_at=NOW - timedelta(minutes=4), cancel_requested_by="alice",
    )  # fmt: skip
    hung = JobRun.objects.create(
        kind=TEST_KIND, key="b", status="running", started_at=NOW - timedelta(minutes=10), heartbeat_at=beat,
        cancel_requested_at=NOW - timedelta(minutes=6), cancel_requested_by="alice",
    )  # fmt: skip
    result = jobs_watchdog(now=NOW)
    patient.refresh_from_db()
    hung.refresh_from_db()
    assert patient.status == "running"  # still within its grace
    assert hung.status == "cancelled"
    assert hung.error == "did not stop within 300 s of the cancel request by alice; stopped by force"
    assert result.cancelled == [hung.pk] and not result.rescheduled
    settings.JOBS_CANCEL_FORCE_SECONDS = 0  # never by force
    settings.JOBS_HEARTBEAT_GRACE_SECONDS = 600
    assert jobs_watchdog(now=NOW + timedelta(minutes=5)).cancelled == []
    patient.refresh_from_db()
    assert patient.status == "running"


def test_the_watchdog_puts_a_lost_queued_job_back_on_its_queue(redis_conn):
    run = JobRun.objects.create(kind=TEST_KIND, key="test_job:5", params={"n": 5}, status="queued",
                                rq_job_id="genesys-lost", created_at=NOW - timedelta(minutes=10))  # fmt: skip
    result = jobs_watchdog(now=NOW)
    assert result.resubmitted == [run.pk]
    assert Job.exists("genesys-lost", connection=redis_conn)
    jobs_work("maintenance")
    run.refresh_from_db()
    assert run.status == "success"


def test_the_cron_configuration_enqueues_a_tick_that_a_json_worker_can_run(settings):
    from django_rq.cron import DjangoCronScheduler

    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("genesys/cron.py")
    (cron_job,) = scheduler.get_jobs()
    assert cron_job.interval == settings.JOBS_TICK_SECONDS
    job = cron_job.enqueue(django_rq.get_connection("default"))
    Job.fetch(
        job.id, connection=django_rq.get_connection("default"), serializer=JSONSerializer
    )  # JSON, not pickle
    jobs_work("maintenance")
    assert django_rq.get_connection("default").get(CRON_HEARTBEAT_KEY)
