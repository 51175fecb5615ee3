"""Helpers for feed tests: build a ``FeedSource`` and read a whole feed into lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from procurement.feeds.mapping import MappedRow, RowRejection
from procurement.feeds.reader import FeedReadError, ReadStats, feed_read
from procurement.feeds.source import FeedSource

# Columns: sku;ean;brand;mpn;name;price;stock (see csv_body)
CSV_PROFILE: dict[str, Any] = {
    "fields": {
        "sku": "sku",
        "gtin": "ean",
        "brand": "brand",
        "partnumber": "mpn",
        "name": "name",
        "price": "price",
        "stock": "stock",
    },
    "meta": "none",
}
CSV_HEADER = "sku;ean;brand;mpn;name;price;stock\n"
# Fast retries; timeouts generous enough for a busy machine (tests of timeouts set their own).
FAST = {"retry_backoff": 0.01, "timeout": 60, "connect_timeout": 30}


def csv_body(*lines: str, header: str = CSV_HEADER) -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode("utf-8")


def source_for(
    url: str, *, format: str = "csv", format_options: dict[str, Any] | None = None, **kwargs: Any
) -> FeedSource:
    options = {**FAST, **({"delimiter": ";"} if format == "csv" else {}), **(format_options or {})}
    return FeedSource(url=url, format=format, format_options=options, **kwargs)


@dataclass
class ReadResult:
    rows: list[MappedRow] = field(default_factory=list)
    rejections: list[RowRejection] = field(default_factory=list)
    stats: ReadStats = field(default_factory=ReadStats)
    error: FeedReadError | None = None

    @property
    def skus(self) -> list[str]:
        return [row.sku for row in self.rows]

    def row(self, sku: str) -> MappedRow:
        return next(row for row in self.rows if row.sku == sku)


def read_all(
    source: FeedSource, profile: dict[str, Any] | None = None, *, max_rows: int | None = None
) -> ReadResult:
    """Consume ``feed_read`` completely; a ``FeedReadError`` is kept on the result, not raised."""
    result = ReadResult()
    try:
        for row in feed_read(
            source=source, profile=profile or CSV_PROFILE, stats=result.stats, max_rows=max_rows
        ):
            (result.rows if isinstance(row, MappedRow) else result.rejections).append(row)
    except FeedReadError as exc:
        result.error = exc
    return result
