"""Per-supplier ingest scheduling on RQ: one job per supplier, next run at finish + interval."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from genesys.jobs.ledger import kill_switch_set
from genesys.models import JobKindConfig, JobRun
from procurement.models import FeedRun, Supplier
from procurement.services.scheduling import supplier_ingest_now, supplier_ingests_schedule
from procurement.services.suppliers import supplier_save
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory
from tests.support.jobs import jobs_due_now, jobs_work

pytestmark = pytest.mark.django_db
PROFILE = {"fields": {"sku": "sku", "gtin": "ean", "price": "price", "stock": "stock"}, "meta": "none"}


def supplier_with_feed(
    feeds_root, name="Acme", body="sku;ean;price;stock\nA1;5600000010075;10.00;3\n", **kwargs
):
    (feeds_root / f"{name}.csv").write_text(body)
    supplier = SupplierFactory(name=name, ingest_enabled=True, ingest_interval_minutes=45, **kwargs)
    feed = SupplierFeedFactory(
        supplier=supplier, source_url=f"file:{name}.csv", format_options={"delimiter": ";"}
    )
    FeedMapperFactory(feed=feed, profile=PROFILE)
    return supplier


def active(supplier):
    return JobRun.objects.filter(key=f"supplier_ingest:{supplier.pk}", status__in=JobRun.ACTIVE)


def test_one_job_per_enabled_supplier_however_often_scheduling_is_called(feeds_root):
    a = supplier_with_feed(feeds_root, "A")
    b = supplier_with_feed(feeds_root, "B")
    off = supplier_with_feed(feeds_root, "Off")
    Supplier.objects.filter(pk=off.pk).update(ingest_enabled=False)
    first = supplier_ingests_schedule()
    for _ in range(3):
        supplier_ingests_schedule()
    assert sorted(first.created) == sorted([a.pk, b.pk])
    assert active(a).count() == active(b).count() == 1
    assert not active(off).exists()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_scheduling_never_creates_a_second_job(feeds_root):
    suppliers = [supplier_with_feed(feeds_root, f"S{n}") for n in range(5)]
    barrier = threading.Barrier(4)

    def schedule():
        try:
            barrier.wait()
            for _ in range(5):
                supplier_ingests_schedule()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for supplier in suppliers:
        assert active(supplier).count() == 1


def test_the_next_run_lands_at_finish_plus_interval(feeds_root, django_capture_on_commit_callbacks):
    supplier = supplier_with_feed(feeds_root)
    with django_capture_on_commit_callbacks(execute=True):
        supplier_ingests_schedule()
    jobs_work("ingest")
    done, following = JobRun.objects.filter(key=f"supplier_ingest:{supplier.pk}").order_by("id")
    assert done.status == "success"
    assert done.summary["feeds"][0]["rows_valid"] == 1
    assert FeedRun.objects.get().job_run == done
    assert following.status == "queued"
    assert abs((following.scheduled_for - (done.finished_at + timedelta(minutes=45))).total_seconds()) < 2
    supplier.refresh_from_db()
    assert supplier.ingest_next_run_at == following.scheduled_for


def test_a_failing_ingest_retries_with_backoff_then_keeps_its_regular_schedule(
    feeds_root, django_capture_on_commit_callbacks
):
    supplier = supplier_with_feed(feeds_root)
    (feeds_root / "Acme.csv").unlink()  # the file is gone: every attempt fails
    JobKindConfig.objects.filter(kind="supplier_ingest").update(retry_attempts=1, retry_backoff_seconds=[120])
    with django_capture_on_commit_callbacks(execute=True):
        supplier_ingests_schedule()
    jobs_work("ingest")
    first, retry = JobRun.objects.filter(key=f"supplier_ingest:{supplier.pk}").order_by("id")
    assert first.status == "failed" and "Acme.csv" in first.error
    assert abs((retry.scheduled_for - first.finished_at).total_seconds() - 120) < 2
    jobs_due_now()
    jobs_work("ingest")
    runs = list(JobRun.objects.filter(key=f"supplier_ingest:{supplier.pk}").order_by("id"))
    assert [r.status for r in runs] == ["failed", "failed", "queued"]
    assert abs((runs[2].scheduled_for - (runs[1].finished_at + timedelta(minutes=45))).total_seconds()) < 2


def test_the_kill_switch_skips_ingests_without_losing_their_cadence(
    feeds_root, django_capture_on_commit_callbacks
):
    supplier = supplier_with_feed(feeds_root)
    with django_capture_on_commit_callbacks(execute=True):
        supplier_ingests_schedule()
    kill_switch_set(enabled=False, by="test")
    jobs_work("ingest")
    skipped, following = JobRun.objects.filter(key=f"supplier_ingest:{supplier.pk}").order_by("id")
    assert skipped.status == "skipped"
    assert following.scheduled_for >= skipped.finished_at + timedelta(minutes=44)
    assert not FeedRun.objects.exists()


def test_enabling_schedules_and_disabling_cancels(feeds_root, django_capture_on_commit_callbacks):
    supplier = supplier_with_feed(feeds_root)
    Supplier.objects.filter(pk=supplier.pk).update(ingest_enabled=False)
    supplier.refresh_from_db()
    supplier.ingest_enabled = True
    with django_capture_on_commit_callbacks(execute=True):
        supplier_save(supplier=supplier, changed_fields={"ingest_enabled"})
    assert active(supplier).count() == 1
    supplier.ingest_enabled = False
    with django_capture_on_commit_callbacks(execute=True):
        supplier_save(supplier=supplier, changed_fields={"ingest_enabled"})
    assert not active(supplier).exists()
    assert JobRun.objects.get(key=f"supplier_ingest:{supplier.pk}").summary == {
        "cancelled": "scheduled ingest disabled"
    }
    supplier.refresh_from_db()
    assert supplier.ingest_next_run_at is None


def test_run_now_replaces_a_later_scheduled_ingest(feeds_root, django_capture_on_commit_callbacks):
    supplier = supplier_with_feed(feeds_root)
    with django_capture_on_commit_callbacks(execute=True):
        later = supplier_ingests_schedule()
    JobRun.objects.filter(key=f"supplier_ingest:{supplier.pk}").update(
        scheduled_for=timezone.now() + timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        now_run = supplier_ingest_now(supplier_id=supplier.pk, triggered_by="test")
    assert later.created and now_run.scheduled_for is None
    assert active(supplier).get() == now_run
    assert now_run.priority == "urgent"  # an operator's run now: before scheduled work
    jobs_work("urgent")
    now_run.refresh_from_db()
    assert now_run.status == "success"


def test_feed_runs_left_running_by_a_dead_process_are_released(feeds_root):
    from procurement.services.runs import feed_runs_orphaned_abandon
    from tests.factories import FeedRunFactory, JobRunFactory

    JobKindConfig.objects.filter(kind="supplier_ingest").update(stale_after_seconds=3600)
    now = timezone.now()
    cli_dead = FeedRunFactory(status="running", finished_at=None, started_at=now - timedelta(hours=2))
    cli_alive = FeedRunFactory(status="running", finished_at=None, started_at=now - timedelta(minutes=5))
    job_over = FeedRunFactory(status="running", finished_at=None, job_run=JobRunFactory(status="failed"))
    job_live = FeedRunFactory(status="running", finished_at=None, job_run=JobRunFactory(status="running"))
    assert feed_runs_orphaned_abandon(now=now) == 2
    statuses = {r.pk: r.status for r in FeedRun.objects.all()}
    assert statuses == {
        cli_dead.pk: "abandoned",
        cli_alive.pk: "running",
        job_over.pk: "abandoned",
        job_live.pk: "running",
    }
