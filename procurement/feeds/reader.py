"""``feed_read``: the one entry point the ingest uses, from a ``FeedSource`` to canonical rows.

Page by page: download (spooled to a temporary file), unpack, parse streaming, map each item
with the compiled profile, yield. Nothing is written anywhere; memory does not grow with the
size of the feed. A fatal problem sets ``stats.error`` and raises ``FeedReadError`` after the
rows read so far have been yielded, so the caller decides what a partial read means.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from procurement.feeds.auth import Credentials, credentials_resolve
from procurement.feeds.download import Page, ReadLimit, feed_session, file_page_open, http_page_download
from procurement.feeds.encoding import text_encoding_choose
from procurement.feeds.errors import FeedReadError
from procurement.feeds.known import KnownItems, SeenRow
from procurement.feeds.mapping import (
    CompiledProfile,
    ItemError,
    MappedRow,
    ProfileBindError,
    RawItem,
    RowRejection,
    profile_compile,
)
from procurement.feeds.options import CsvOptions, FeedSettings, JsonOptions, XmlOptions, feed_settings_parse
from procurement.feeds.pagination import PageRequest, page_request_first, page_request_next
from procurement.feeds.parse_csv import csv_items_parse
from procurement.feeds.parse_json import json_items_parse
from procurement.feeds.parse_xml import xml_items_parse
from procurement.feeds.redact import Redactor
from procurement.feeds.source import FeedSource
from procurement.feeds.unpack import body_unpack

__all__ = ["FeedReadError", "ReadStats", "feed_read"]

logger = logging.getLogger("procurement.feeds")

MAX_WARNINGS = 100
MAX_WARNINGS_TRACKED = 10_000  # distinct messages remembered to drop repeats
BODY_POSITION_EVERY = 256  # items between two readings of the parser's position in the body


@dataclass
class ReadStats:
    """What a read did; filled in as the rows are yielded, final once the iterator is exhausted.

    ``warnings_dropped`` (not a field) counts the distinct feed warnings beyond the first 100.
    """

    bytes_downloaded: int = 0
    pages_fetched: int = 0
    rows_read: int = 0  # items seen (valid + rejected)
    download_seconds: float = 0.0
    parse_seconds: float = 0.0  # parsing + mapping only, not the consumer's time between rows
    warnings: list[str] = field(default_factory=list)  # feed-level, the first 100 (+ a count line)
    completed: bool = False  # True only when download and parse reached the end normally
    error: str = ""  # set when the read stopped early

    def __post_init__(self) -> None:
        # Plain attributes, not fields: dataclasses.asdict(stats) stays the documented contract.
        self.warnings_dropped = 0
        self._warnings_seen: set[str] = set()
        # The size of a one-page feed's body (a file's size, an HTTP body's length) and how much
        # of it the parser has read: the ingest's percentage. 0 when not known (paginated feeds).
        self.body_bytes = 0
        self.body_bytes_read = 0

    def warning_add(self, message: str) -> None:
        """Record a feed-level warning once; past ``MAX_WARNINGS`` distinct ones, only count them."""
        if message in self._warnings_seen:
            return
        if len(self._warnings_seen) < MAX_WARNINGS_TRACKED:
            self._warnings_seen.add(message)
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
            return
        self.warnings_dropped += 1
        summary = _("… and %(count)s more warnings.") % {"count": self.warnings_dropped}
        if len(self.warnings) == MAX_WARNINGS:
            self.warnings.append(summary)
        else:
            self.warnings[-1] = summary


def feed_read(
    *,
    source: FeedSource,
    profile: dict[str, Any],
    stats: ReadStats,
    max_rows: int | None = None,
    known: KnownItems | None = None,
    limit: ReadLimit | None = None,
) -> Iterator[MappedRow | RowRejection | SeenRow]:
    """Download page by page, parse streaming, map; yields rows as it goes.

    On a fatal problem (HTTP 401/404/500 after retries, timeout, malformed JSON/XML, unterminated
    quote, oversized body, pagination loop...) sets ``stats.error`` and raises ``FeedReadError``
    AFTER having yielded the rows read so far. ``max_rows`` stops early (a preview) without it
    being an error: ``completed`` stays False. With ``known`` (the ingest), an item identical to
    the one that last wrote its offer comes out as a ``SeenRow`` without being mapped. ``limit``
    bounds the whole read in time (downloads and parsing), on top of each page's ``max_seconds``.
    """
    redactor = Redactor()
    try:
        feed_settings, compiled = _prepare(source=source, profile=profile)
        credentials = (
            Credentials()
            if source.is_local_file
            else credentials_resolve(auth_type=source.auth_type, auth_settings=source.auth_settings)
        )
        redactor = credentials.redactor
        if compiled.inherits:
            known = None  # a row's values depend on the rows before it: map every item
        yield from _pages_read(
            source=source,
            feed_settings=feed_settings,
            compiled=compiled,
            credentials=credentials,
            stats=stats,
            max_rows=max_rows,
            known=known,
            limit=limit,
        )
    except FeedReadError as exc:
        # Last line of defence: whatever the message says, credentials do not leave this function.
        message = redactor.text(exc.message)
        stats.error = message
        raise FeedReadError(message, phase=exc.phase) from None
    except Exception as exc:
        stats.error = _("Unexpected error while reading the feed (%(kind)s); see the worker log.") % {
            "kind": type(exc).__name__
        }
        raise


def _prepare(*, source: FeedSource, profile: dict[str, Any]) -> tuple[FeedSettings, CompiledProfile]:
    try:
        feed_settings = feed_settings_parse(
            format=source.format, format_options=source.format_options, pagination=source.pagination
        )
    except ValidationError as exc:
        problems = [
            f"{name}.{message}" for name, messages in exc.message_dict.items() for message in messages
        ]
        raise FeedReadError(
            _("The feed settings are invalid: %(problems)s") % {"problems": "; ".join(problems)},
            phase="download",
        ) from None
    if not source.is_local_file and not source.url.lower().startswith(("http://", "https://")):
        raise FeedReadError(
            _("The source must be an http(s):// URL or file:relative/path under FEEDS_ROOT."),
            phase="download",
        )
    try:
        compiled = profile_compile(profile=profile)
    except ValidationError as exc:
        raise FeedReadError(
            _("The mapper profile is invalid: %(problems)s") % {"problems": "; ".join(exc.messages)},
            phase="parse",
        ) from None
    return feed_settings, compiled


def _pages_read(
    *,
    source: FeedSource,
    feed_settings: FeedSettings,
    compiled: CompiledProfile,
    credentials: Credentials,
    stats: ReadStats,
    max_rows: int | None,
    known: KnownItems | None,
    limit: ReadLimit | None,
) -> Iterator[MappedRow | RowRejection | SeenRow]:
    """Every page of the feed, in order: download, check, unpack, then its rows (stages below)."""
    pagination = _pagination_effective(source=source, feed_settings=feed_settings, stats=stats)
    request: PageRequest | None = page_request_first(url=source.url, pagination=pagination)
    previous_digest = ""
    line_offset = 0
    probe = _ProbeReport(
        None if isinstance(feed_settings.parse, CsvOptions) else compiled.source_probe(), stats=stats
    )
    with feed_session() as session:  # vetted, pinned (genesys/outbound.py) and under the deadline
        while request is not None:
            if _rows_enough(stats=stats, max_rows=max_rows):
                probe.report()
                return
            started = time.perf_counter()
            page = _page_download(
                source=source,
                request=request,
                session=session,
                credentials=credentials,
                feed_settings=feed_settings,
                limit=limit,
                stats=stats,
                started=started,
            )
            shown = credentials.redactor.url(page.url)
            entries: Generator[RawItem | ItemError, None, None] | None = None
            try:
                _page_not_repeated(page=page, request=request, previous_digest=previous_digest, shown=shown)
                previous_digest = page.digest
                if _page_empty(page=page, request=request, shown=shown, stats=stats, started=started):
                    break  # an empty body after the first page: no more pages (e.g. HTTP 204)
                page.file = body_unpack(file=page.file, source=shown, max_bytes=feed_settings.http.max_bytes)
                stats.download_seconds += time.perf_counter() - started
                stats.body_bytes = _body_size(page.file) if pagination.type == "none" else 0
                logger.debug("%s: page %d downloaded (%d bytes)", shown, request.number, page.size)
                entries = _items_parse(
                    page.file, feed_settings=feed_settings, compiled=compiled, stats=stats, source=shown
                )
                read = yield from _page_rows(
                    entries,
                    line_offset=line_offset,
                    compiled=compiled,
                    known=known,
                    stats=stats,
                    probe=probe,
                    file=page.file,
                    limit=limit,
                    max_rows=max_rows,
                )
                if read is None:  # max_rows reached mid-page
                    probe.report()
                    return
                items, last_line = read
                line_offset += last_line
                request = page_request_next(
                    base_url=source.url, current=request, pagination=pagination, items=items, page=page
                )
            finally:
                if entries is not None:
                    entries.close()  # a preview stops mid-page: the parser lets go of the file first
                page.file.close()
    probe.report()
    stats.completed = True


class _ProbeReport:
    """The source probe of JSON and XML feeds (which paths the items have), watched on the first
    items and reported once as warnings: when it has seen enough, or when the read ends."""

    def __init__(self, probe: Any, *, stats: ReadStats) -> None:
        self.probe = probe
        self.stats = stats

    def observe(self, entry: RawItem | ItemError) -> None:
        if self.probe is not None and not isinstance(entry, ItemError):
            self.probe.observe(entry.data)
            if self.probe.finished:
                self.report()

    def report(self) -> None:
        if self.probe is not None:
            for warning in self.probe.warnings():
                self.stats.warning_add(warning)
            self.probe = None


def _pagination_effective(*, source: FeedSource, feed_settings: FeedSettings, stats: ReadStats) -> Any:
    """The feed's pagination; none for a file (with a warning when one was configured)."""
    pagination = feed_settings.pagination
    if source.is_local_file and pagination.type != "none":
        stats.warning_add(_("Pagination is ignored for file: sources."))
        pagination = type(pagination)()
    return pagination


def _rows_enough(*, stats: ReadStats, max_rows: int | None) -> bool:
    return max_rows is not None and stats.rows_read >= max_rows


def _page_download(*, stats: ReadStats, started: float, **fetch: Any) -> Page:
    """Fetch one page and count it; the time lost to a failed download counts too."""
    try:
        page = _page_fetch(**fetch)
    except FeedReadError:
        stats.download_seconds += time.perf_counter() - started
        raise
    stats.pages_fetched += 1
    stats.bytes_downloaded += page.wire_bytes
    return page


def _page_not_repeated(*, page: Page, request: PageRequest, previous_digest: str, shown: str) -> None:
    """A page identical to the one before means the server ignores the pagination: stop, not loop."""
    if page.digest and page.digest == previous_digest:
        raise FeedReadError(
            _(
                "Page %(number)s is identical to page %(previous)s (%(url)s): the server "
                "ignores the pagination settings, so the read stopped instead of looping."
            )
            % {"number": request.number, "previous": request.number - 1, "url": shown},
            phase="download",
        )


def _page_empty(*, page: Page, request: PageRequest, shown: str, stats: ReadStats, started: float) -> bool:
    """True for an empty page after the first (the end); an empty first page is an error."""
    if page.size != 0:
        return False
    stats.download_seconds += time.perf_counter() - started
    if request.number == 1:
        raise FeedReadError(_("The feed is empty (0 bytes) at %(url)s.") % {"url": shown}, phase="parse")
    return True


def _page_rows(
    entries: Iterator[RawItem | ItemError],
    *,
    line_offset: int,
    compiled: CompiledProfile,
    known: KnownItems | None,
    stats: ReadStats,
    probe: _ProbeReport,
    file: IO[bytes],
    limit: ReadLimit | None,
    max_rows: int | None,
) -> Generator[MappedRow | RowRejection | SeenRow, None, tuple[int, int] | None]:
    """The rows of one page's items; returns (items, last line) or None when ``max_rows`` stopped
    the read mid-page. Parse time is counted without the time the consumer holds each row."""
    items = 0
    last_line = 0
    clock = time.perf_counter()
    for entry in entries:
        if limit is not None and time.monotonic() > limit.at:
            raise FeedReadError(_limit_message(limit, stats.rows_read), phase="parse")
        items += 1
        stats.rows_read += 1
        if stats.body_bytes and not items % BODY_POSITION_EVERY:
            stats.body_bytes_read = file.tell()  # how far into a body of known size (progress)
        last_line = entry.line
        if probe.probe is not None:  # JSON and XML, on their first items only
            probe.observe(entry)
        row = _entry_row(entry, line=entry.line + line_offset, compiled=compiled, known=known)
        stats.parse_seconds += time.perf_counter() - clock
        yield row
        if max_rows is not None and stats.rows_read >= max_rows:  # _rows_enough, inline: every row
            return None
        clock = time.perf_counter()
    stats.parse_seconds += time.perf_counter() - clock
    stats.body_bytes_read = stats.body_bytes
    return items, last_line


def _entry_row(
    entry: RawItem | ItemError, *, line: int, compiled: CompiledProfile, known: KnownItems | None
) -> MappedRow | RowRejection | SeenRow:
    """One item as a row: rejected if unreadable, seen if identical to a known offer's (re-ingest
    of an unchanged item), mapped otherwise."""
    if isinstance(entry, ItemError):
        return RowRejection(line=line, reason=entry.reason, raw=entry.raw)
    entry.line = line
    if known is None:
        return compiled.item_map(entry)
    digest = known.digest(entry)
    item_id = known.take(digest)
    if item_id is not None:
        return SeenRow(line=line, item_id=item_id)
    row = compiled.item_map(entry, raw_digest=digest.hex())
    if type(row) is MappedRow:
        known.listed(row.sku)
    return row


def _body_size(file: IO[bytes]) -> int:
    """The size of a spooled or local body (0 when it cannot tell); the file stays at 0."""
    try:
        size = file.seek(0, 2)
        file.seek(0)
    except (OSError, ValueError):
        return 0
    return size


def _page_fetch(
    *,
    source: FeedSource,
    request: PageRequest,
    session: requests.Session,
    credentials: Credentials,
    feed_settings: FeedSettings,
    limit: ReadLimit | None,
) -> Page:
    if source.is_local_file:
        return file_page_open(
            url=request.url, root=Path(settings.FEEDS_ROOT), max_bytes=feed_settings.http.max_bytes
        )
    return http_page_download(
        session=session,
        url=request.url,
        credentials=credentials,
        headers=source.headers,
        http=feed_settings.http,
        limit=limit,
    )


def _limit_message(limit: ReadLimit, rows: int) -> str:
    return _("The read took longer than %(seconds)s s (%(setting)s); it stopped after %(rows)s rows.") % {
        "seconds": f"{limit.seconds:g}",
        "setting": limit.setting,
        "rows": rows,
    }


def _items_parse(
    file: IO[bytes], *, feed_settings: FeedSettings, compiled: CompiledProfile, stats: ReadStats, source: str
) -> Generator[RawItem | ItemError, None, None]:
    options = feed_settings.parse
    if isinstance(options, CsvOptions):
        choice = text_encoding_choose(file=file, declared=options.encoding, source=source)
        if choice.warning:
            stats.warning_add(choice.warning)

        def on_header(header: list[str]) -> None:
            try:
                for warning in compiled.header_bind(header):
                    stats.warning_add(warning)
            except ProfileBindError as exc:
                raise FeedReadError(str(exc), phase="parse") from None

        yield from csv_items_parse(
            file=file, options=options, encoding=choice.encoding, on_header=on_header, warn=stats.warning_add
        )
    elif isinstance(options, JsonOptions):
        yield from json_items_parse(file=file, options=options)
    elif isinstance(options, XmlOptions):
        yield from xml_items_parse(file=file, options=options, warn=stats.warning_add)
