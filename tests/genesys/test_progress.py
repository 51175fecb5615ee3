"""Job progress: percentage and estimated end from a measure of the work (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from genesys.jobs.progress import ProgressMeter, progress_eta
from procurement.progress import IngestMeasure, ingest_measure, progress_bar

T0 = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def test_the_estimate_extrapolates_the_rate_seen_since_the_first_reading():
    meter = ProgressMeter(unit="rows")
    first = meter.reading(done=1000, total=10_000, now=T0)
    assert first["percent"] == 10.0 and first["eta"] is None  # no rate yet
    later = meter.reading(done=3000, total=10_000, now=T0 + timedelta(minutes=2))
    # 2,000 rows in 2 minutes; 7,000 to go: 7 more minutes.
    assert later["percent"] == 30.0
    assert datetime.fromisoformat(later["eta"]) == T0 + timedelta(minutes=9)


def test_it_never_says_100_percent_before_the_job_ends_nor_guesses_without_a_total():
    meter = ProgressMeter()
    assert meter.reading(done=12_000, total=10_000, now=T0)["percent"] == 99.0
    assert ProgressMeter().reading(done=5, total=None, now=T0) == {}
    assert progress_eta(done=5, total=10, since=T0, done_since=5, now=T0 + timedelta(seconds=9)) is None


def measure(**given):
    values = {"phase": "rows", "rows_read": 0, "rows_done": 0, "body_bytes": 0, "body_bytes_read": 0,
              "expected_rows": None}  # fmt: skip
    return ingest_measure(**{**values, **given})


def test_a_one_page_feed_scales_the_rows_parsed_by_the_parsers_position_in_its_body():
    # A quarter of the body gave 500 rows: about 2,000 in all; the writer has handled 300.
    got = measure(rows_read=500, rows_done=300, body_bytes=1000, body_bytes_read=250, expected_rows=99)
    assert got == IngestMeasure(done=300, total=2000)
    # The whole body is parsed: the total is exact.
    assert measure(rows_read=1234, rows_done=1000, body_bytes=1000, body_bytes_read=1000).total == 1234


def test_otherwise_the_previous_runs_rows_are_the_total_and_without_either_there_is_none():
    assert measure(rows_read=10, rows_done=10, expected_rows=40) == IngestMeasure(done=10, total=40)
    assert measure(rows_read=90, rows_done=50, expected_rows=40) == IngestMeasure(done=50, total=50)
    assert measure(rows_read=10, rows_done=10) is None
    assert measure(phase="recompute", rows_read=9, rows_done=9, body_bytes=9, body_bytes_read=9) is None


def test_the_terminal_bar():
    assert progress_bar(percent=50, width=10) == "[#####.....]"
    assert progress_bar(percent=140, width=4) == "[####]"
