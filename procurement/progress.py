"""How far an ingest is: the measure behind its percentage and estimated end. Pure.

The work is the rows the writer has handled (valid + rejected). Their expected total: for a
one-page feed whose body size is known (a file's size; an HTTP body's length, as its
Content-Length said), the rows the parser read so far scaled by its position in the body (the
parser runs ahead of the writer, so this is exact once it has read the whole body); otherwise
the previous complete run's rows. Neither known: no percentage, only the counts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestMeasure:
    done: int
    total: int
    unit: str = "rows"


def ingest_measure(
    *,
    phase: str,
    rows_read: int,
    rows_done: int,
    body_bytes: int,
    body_bytes_read: int,
    expected_rows: int | None,
) -> IngestMeasure | None:
    """The measure of a read in progress, or None when the size of the feed is not known."""
    if phase != "rows":
        return None
    if body_bytes > 0 and body_bytes_read > 0 and rows_read > 0:
        total = round(rows_read * body_bytes / min(body_bytes_read, body_bytes))
        return IngestMeasure(done=rows_done, total=max(total, rows_done))
    if expected_rows:
        return IngestMeasure(done=rows_done, total=max(expected_rows, rows_done))
    return None


def progress_bar(*, percent: float, width: int = 20) -> str:
    """ "[#######.............]" for a terminal."""
    filled = round(max(0.0, min(percent, 100.0)) / 100 * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"
