"""Samples of the shop stream's backlog, for the home page's 24-hour chart: one every few
minutes, from the tick's housekeeping, kept two days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import CatalogUpdateStream, StreamBacklogSample
from catalog.services.backlog import KEEP_HOURS, SAMPLE_EVERY_SECONDS, stream_backlog_sample
from genesys.jobs.registry import job_spec
from genesys.models import JobKind
from tests.factories import CatalogUpdateStreamFactory, StreamBacklogSampleFactory

pytestmark = pytest.mark.django_db


def test_a_sample_counts_pending_parked_and_processing_rows_and_the_oldest_pending_age():
    now = timezone.now()
    CatalogUpdateStreamFactory(created_at=now - timedelta(minutes=10))
    CatalogUpdateStreamFactory()
    CatalogUpdateStreamFactory(status=CatalogUpdateStream.Status.FAILED)
    CatalogUpdateStreamFactory(status=CatalogUpdateStream.Status.DONE)
    sample = stream_backlog_sample(now=now)
    assert (sample.pending, sample.failed, sample.processing) == (2, 1, 0)
    assert 599 <= sample.oldest_pending_age_s <= 601


def test_one_sample_per_interval_and_old_ones_are_deleted():
    now = timezone.now()
    old = StreamBacklogSampleFactory(taken_at=now - timedelta(hours=KEEP_HOURS + 1))
    assert stream_backlog_sample(now=now) is not None
    assert stream_backlog_sample(now=now + timedelta(seconds=SAMPLE_EVERY_SECONDS - 1)) is None
    assert stream_backlog_sample(now=now + timedelta(seconds=SAMPLE_EVERY_SECONDS + 1)) is not None
    assert (
        StreamBacklogSample.objects.count() == 2
        and not StreamBacklogSample.objects.filter(pk=old.pk).exists()
    )


def test_the_periodic_tick_takes_the_samples():
    assert job_spec(JobKind.CATALOG_RECOMPUTE).reconcile is stream_backlog_sample
