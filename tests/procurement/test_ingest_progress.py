"""An ingest tells how far it is: % and an estimated end in the ledger (the admin reads it) and
in the CLI bar, measured by the body's size or by the previous run's rows."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from genesys.jobs import context as job_context
from genesys.jobs.context import JobContext
from genesys.jobs.ledger import kind_config_get
from genesys.models import JobKind, JobRun
from procurement.jobs import supplier_ingest_job
from procurement.services.ingest import IngestProgress
from tests.factories import FeedRunFactory, JobRunFactory
from tests.procurement.test_ingest import HEADER, Feed, ean

pytestmark = pytest.mark.django_db


def _lines(count: int) -> list[str]:
    return [f"P{n};{ean(n)};Acme;PN{n};Product {n};A > B;10,00;3;1 ano" for n in range(1, count + 1)]


@pytest.fixture
def big_feed(feed_server, settings):
    settings.INGEST_CHUNK_ROWS = 100
    feed = Feed(feed_server, name="Acme")
    feed.serve(*_lines(1000))
    return feed


def test_a_one_page_feed_reports_the_parsers_position_in_its_body(big_feed):
    seen: list[IngestProgress] = []
    big_feed.ingest(on_progress=seen.append)
    rows = [p for p in seen if p.phase == "rows"]
    body = len(("\n".join([HEADER, *_lines(1000)]) + "\n").encode())
    assert rows and all(p.feed_id == big_feed.feed.pk for p in rows)
    assert {p.body_bytes for p in rows} == {body}
    read = [p.body_bytes_read for p in rows]
    assert read == sorted(read) and 0 < read[0] and read[-1] == body


def test_the_ingest_job_records_percent_and_estimated_end_on_its_run(big_feed, monkeypatch):
    monkeypatch.setattr(job_context, "PROGRESS_LOG_EVERY_SECONDS", 0)
    readings: list[dict] = []
    original = JobContext.progress

    def spy(self, message, **kwargs):
        original(self, message, **kwargs)
        readings.append(dict(JobRun.objects.get(pk=self.run.pk).progress))

    monkeypatch.setattr(JobContext, "progress", spy)
    run = JobRunFactory(
        kind=JobKind.SUPPLIER_INGEST,
        key=f"supplier_ingest:{big_feed.feed.supplier_id}",
        status=JobRun.Status.RUNNING,
        params={"supplier_id": big_feed.feed.supplier_id},
    )
    supplier_ingest_job(JobContext(run=run, config=kind_config_get(kind=JobKind.SUPPLIER_INGEST)))
    measured = [r for r in readings if r.get("percent") is not None]
    assert measured and {r["unit"] for r in measured} == {"rows"}
    percents = [r["percent"] for r in measured]
    assert percents == sorted(percents) and percents[-1] <= 99.0
    assert any(r["eta"] for r in measured[1:])
    # The catalog step: no size to measure, so no percentage and no estimate, only the count.
    assert readings[-1].get("percent") is None and readings[-1].get("eta") is None


def test_without_a_known_size_the_previous_complete_runs_rows_are_the_measure(big_feed):
    from procurement.models import FeedRun
    from procurement.progress import ingest_measure
    from procurement.selectors import feed_expected_rows

    FeedRunFactory(feed=big_feed.feed, rows_read=2000)
    FeedRunFactory(feed=big_feed.feed, rows_read=10, status=FeedRun.Status.FAILED)  # not complete
    FeedRunFactory(feed=big_feed.feed, rows_read=10, dry_run=True)
    assert feed_expected_rows(feed_id=big_feed.feed.pk) == 2000
    measure = ingest_measure(
        phase="rows", rows_read=600, rows_done=500, body_bytes=0, body_bytes_read=0, expected_rows=2000
    )
    assert measure is not None and measure.unit == "rows" and measure.done / measure.total == 0.25


def test_the_cli_bar_shows_percent_on_a_terminal(big_feed, monkeypatch, capsys):
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    call_command("ingest_supplier", str(big_feed.feed.supplier_id))
    out = capsys.readouterr().out
    assert "%" in out and "[#" in out


def test_the_live_counters_commit_without_waiting_for_the_disk():
    """Each chunk's COMMIT does not wait for its WAL to reach the disk; the progress update that
    follows must not either, or its own COMMIT would wait for the chunk's WAL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from procurement.services.runs import feed_run_progress

    run = FeedRunFactory()
    with CaptureQueriesContext(connection) as captured:
        feed_run_progress(run=run, fields={"rows_read": 500, "progress": "500 rows read"})
    statements = [q["sql"] for q in captured.captured_queries]
    update = next(n for n, sql in enumerate(statements) if sql.startswith("UPDATE"))
    if connection.vendor == "postgresql":
        assert "SET LOCAL synchronous_commit TO OFF" in statements[:update]
    run.refresh_from_db()
    assert (run.rows_read, run.progress) == (500, "500 rows read")
