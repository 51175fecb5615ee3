"""How far an ingest is: the measure behind its percentage and estimated end. Pure.

A one-page feed whose body size is known (a file's size; an HTTP body's length, as its
Content-Length said) is measured by the parser's position in the body; otherwise by rows read
against the previous complete run's rows. Neither known: no percentage, only the counts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestMeasure:
    done: int
    total: int
    unit: str  # "bytes" or "rows"


def ingest_measure(
    *, phase: str, rows_read: int, body_bytes: int, body_bytes_read: int, expected_rows: int | None
) -> IngestMeasure | None:
    """The measure of a read in progress, or None when the size of the feed is not known."""
    if phase != "rows":
        return None
    if body_bytes > 0:
        return IngestMeasure(done=min(body_bytes_read, body_bytes), total=body_bytes, unit="bytes")
    if expected_rows:
        return IngestMeasure(done=rows_read, total=expected_rows, unit="rows")
    return None


def progress_bar(*, percent: float, width: int = 20) -> str:
    """ "[#######.............]" for a terminal."""
    filled = round(max(0.0, min(percent, 100.0)) / 100 * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"
