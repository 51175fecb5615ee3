"""``feed_preview``: the first rows of a feed as the ingest would see them, with every problem.

Used by ``manage.py preview_feed`` and the admin's "Preview feed" page while writing a mapper
profile. It downloads and parses like an ingest but writes nothing at all. It runs inside the web
request, so download and parse together stop after ``FEED_PREVIEW_MAX_SECONDS``: a slow or
hostile server costs the operator a few seconds, never a web worker for the length of a feed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from procurement.feeds.download import ReadLimit
from procurement.feeds.mapping import MappedRow, RowRejection
from procurement.feeds.reader import FeedReadError, ReadStats, feed_read
from procurement.feeds.source import FeedSource
from procurement.models import FeedMapper, SupplierFeed

PREVIEW_MAX_ROWS = 500
SAMPLE_ROWS = 20
SAMPLE_SOURCES_MAX = 300
# Reads every item as valid and keeps all of it as meta: what the mapper editor lists as sources.
_SAMPLE_PROFILE = {
    "fields": {
        "sku": {"constant": "sample"},
        "price": {"constant": 0},
        "stock": {"constant": 0},
        "brand": {"constant": "sample"},
        "partnumber": {"constant": "sample"},
    },
    "meta": "rest",
}


@dataclass
class FeedPreview:
    feed: SupplierFeed
    mapper_name: str = ""  # the active mapper previewed ("" when a profile was given or none exists)
    rows: list[MappedRow] = field(default_factory=list)
    rejections: list[RowRejection] = field(default_factory=list)
    stats: ReadStats = field(default_factory=ReadStats)
    error: str = ""  # why the preview stopped early (no mapper, read error)
    notice: str = ""  # e.g. more rows were asked for than a preview reads

    @property
    def results(self) -> list[MappedRow | RowRejection]:
        """Valid and rejected rows together, in feed order."""
        return sorted([*self.rows, *self.rejections], key=lambda row: row.line)

    @property
    def row_warnings(self) -> list[tuple[int, str]]:
        return [(row.line, warning) for row in self.rows for warning in row.warnings]


def feed_preview(
    *,
    feed: SupplierFeed,
    rows: int = 20,
    profile: dict[str, Any] | None = None,
    max_seconds: float | None = None,
) -> FeedPreview:
    """Read the first ``rows`` items of ``feed`` with its active mapper (or ``profile``, unsaved),
    within ``max_seconds`` (default ``FEED_PREVIEW_MAX_SECONDS``)."""
    seconds = float(settings.FEED_PREVIEW_MAX_SECONDS if max_seconds is None else max_seconds)
    preview = FeedPreview(feed=feed)
    if rows > PREVIEW_MAX_ROWS:
        preview.notice = _("A preview reads at most %(cap)s rows; %(asked)s were asked for.") % {
            "cap": PREVIEW_MAX_ROWS,
            "asked": rows,
        }
    rows = max(1, min(rows, PREVIEW_MAX_ROWS))
    if profile is None:
        mapper = FeedMapper.objects.filter(feed=feed, is_active=True).first()
        if mapper is None:
            preview.error = _("This feed has no active mapper; add one (see docs/mappers.md).")
            return preview
        preview.mapper_name = mapper.name
        profile = mapper.profile
    limit = ReadLimit.after(seconds=seconds, setting="FEED_PREVIEW_MAX_SECONDS")
    try:
        for row in feed_read(
            source=FeedSource.from_feed(feed),
            profile=profile,
            stats=preview.stats,
            max_rows=rows,
            limit=limit,
        ):
            if isinstance(row, MappedRow):
                preview.rows.append(row)
            elif isinstance(row, RowRejection):  # no SeenRow: a preview passes no known items
                preview.rejections.append(row)
    except FeedReadError as exc:
        preview.error = exc.message
        if time.monotonic() >= limit.at:
            preview.error += " " + _(
                "A preview runs inside the web request and stops after %(seconds)s s; "
                "an ingest (a background job) reads the feed within the feed's own limits."
            ) % {"seconds": f"{seconds:g}"}
    return preview


@dataclass
class FeedSample:
    """The sources (CSV columns, JSON/XML dotted paths) seen in the first items of a feed."""

    sources: list[str] = field(default_factory=list)
    examples: dict[str, str] = field(default_factory=dict)  # source -> a value seen, for the editor
    error: str = ""


def feed_sample(
    *, feed: SupplierFeed, rows: int = SAMPLE_ROWS, max_seconds: float | None = None
) -> FeedSample:
    """The columns or paths of ``feed``'s first ``rows`` items, read like a preview (same reader,
    same time limit, same outbound policy), whatever its mapper says."""
    preview = feed_preview(feed=feed, rows=rows, profile=_SAMPLE_PROFILE, max_seconds=max_seconds)
    sample = FeedSample(error=preview.error)
    for row in preview.rows:
        for key, value in row.meta.items():
            if key not in sample.examples and len(sample.sources) < SAMPLE_SOURCES_MAX:
                sample.sources.append(key)
                sample.examples[key] = value[:80]
    return sample
