"""Retention of the job ledger: old ended runs go, the last runs of each key stay, in batches."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from genesys.jobs.maintenance import job_runs_prune
from genesys.models import JobRun, JobRunLog
from tests.factories import JobRunFactory, JobRunLogFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()
OLD = NOW - timedelta(days=200)
BEFORE = NOW - timedelta(days=90)


def runs_of(
    key: str, count: int, *, finished_at=OLD, kind="supplier_ingest", status="success"
) -> list[JobRun]:
    return [
        JobRunFactory(kind=kind, key=key, status=status, created_at=finished_at, finished_at=finished_at)
        for _ in range(count)
    ]


def test_old_ended_runs_go_with_their_logs_but_the_last_ones_of_each_key_stay():
    busy = runs_of("catalog_sync", 8, kind="catalog_sync")
    rare = runs_of("supplier_ingest:1", 2)
    recent = runs_of("supplier_ingest:2", 3, finished_at=NOW - timedelta(days=1))
    for run in busy + rare:
        JobRunLogFactory.create_batch(3, run=run)
    deleted = job_runs_prune(before=BEFORE, keep_per_key=3, batch=2)
    assert deleted == 5
    left = set(JobRun.objects.values_list("pk", flat=True))
    assert left == {r.pk for r in busy[-3:] + rare + recent}  # the newest 3 of catalog_sync survive
    assert set(JobRunLog.objects.values_list("run_id", flat=True)) == {r.pk for r in busy[-3:] + rare}


def test_recent_runs_of_a_key_count_towards_the_ones_kept():
    old = runs_of("supplier_ingest:3", 4)
    new = runs_of("supplier_ingest:3", 2, finished_at=NOW - timedelta(days=1))
    job_runs_prune(before=BEFORE, keep_per_key=3, batch=100)
    assert set(JobRun.objects.values_list("pk", flat=True)) == {old[-1].pk, *(r.pk for r in new)}


def test_active_runs_are_never_pruned_and_keys_of_one_run_each_are_kept_per_kind():
    queued = JobRunFactory(key="supplier_ingest:4", status="queued", created_at=OLD, finished_at=None)
    recomputes = [
        JobRunFactory(kind="catalog_recompute", key=f"catalog_recompute:category:1:{n:08x}",
                      status="success", created_at=OLD, finished_at=OLD)
        for n in range(5)
    ]  # fmt: skip
    job_runs_prune(before=BEFORE, keep_per_key=2, batch=100)
    left = set(JobRun.objects.values_list("pk", flat=True))
    assert left == {queued.pk, recomputes[-2].pk, recomputes[-1].pk}


def test_no_statement_deletes_more_than_a_batch(settings):
    runs = runs_of("catalog_sync", 6, kind="catalog_sync")
    for run in runs:
        JobRunLogFactory.create_batch(7, run=run)
    with CaptureQueriesContext(connection) as queries:
        assert job_runs_prune(before=BEFORE, keep_per_key=0, batch=4) == 6
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) >= (6 * 7) // 4 + 6 // 4
    assert not JobRun.objects.exists() and not JobRunLog.objects.exists()
