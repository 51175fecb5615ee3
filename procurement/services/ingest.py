"""Supplier ingest: read a feed, write its rows, handle missing offers, update the catalog.

feed_ingest -> feed_run_start (one running run per feed, or refused)
           -> feed_read (download, streaming parse, mapper)      [procurement.feeds]
              in a read-ahead thread, so parsing overlaps the database writes; items
              identical to the ones that last wrote their offers skip mapping (feeds.known)
           -> IngestWriter.write per chunk of rows (one transaction each)
           -> unseen offers -> stock 0, behind the safety guard
           -> EOL reversal and active-offer recompute              [catalog services]
           -> the run record with counters, timings and errors
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.services.dirty import DrainResult, dirty_products_count, dirty_products_drain
from genesys.counters import counters_add
from genesys.db import commit_without_waiting_for_disk
from genesys.failpoints import failpoint
from procurement.feeds.errors import FeedReadError
from procurement.feeds.known import KNOWN_ITEMS_MAX, KnownItems, SeenRow
from procurement.feeds.mapping import MappedRow, RowRejection
from procurement.feeds.read_ahead import items_read_ahead
from procurement.feeds.reader import ReadStats, feed_read
from procurement.feeds.source import FeedSource
from procurement.feeds.text import controls_escape
from procurement.ingest_rules import unseen_guard
from procurement.models import FeedMapper, FeedRun, Supplier, SupplierFeed, SupplierItem
from procurement.notifications import guard_skipped_notify
from procurement.services.ingest_writer import DUPLICATE_SKUS_KEPT, ChunkOutcome, IngestWriter
from procurement.services.runs import (
    REJECTED_ROWS_KEPT,
    ROW_WARNINGS_KEPT,
    feed_run_baseline,
    feed_run_progress,
    feed_run_start,
)

logger = logging.getLogger(__name__)

Reader = Callable[..., Iterator[MappedRow | RowRejection | SeenRow]]


class IngestStopped(Exception):
    """Raised between chunks when the job was asked to stop (cancelled, kill switch): the chunks
    written stay, the missing-offer step never runs, the run ends cancelled."""


@dataclass
class IngestProgress:
    feed: str
    rows_read: int
    rows_valid: int
    rows_rejected: int
    phase: str
    # The measure of how far the read is (procurement.progress): the body's size and
    # the parser's position in it, when known; the feed, for the previous run's row count.
    feed_id: int = 0
    body_bytes: int = 0
    body_bytes_read: int = 0


@dataclass
class IngestResult:
    """What a run's steps after the rows say, for its record: the read error, the missing-offer
    step and the catalog step (``crash``: the exception that ended the run, if any)."""

    read_error: str = ""
    unseen: str = ""  # "", "skipped", "applied" or "forced"
    unseen_reason: str = ""
    zeroed: int = 0
    already_zero: int = 0
    recompute_seconds: float = 0.0
    stream_rows: int = 0
    eol_reverted: int = 0
    products_changed: int = 0
    crash: BaseException | None = None
    stopped: bool = False  # asked to stop: ended after a committed chunk, before the unseen step


# The chunk counters a run adds up (the rows, the duplicates and the products the holds marked
# are counted elsewhere: by the run's own tally and by the dirty set).
CHUNK_TOTALS = (
    "products_created",
    "products_updated",
    "offers_created",
    "offers_changed",
    "offers_unchanged",
    "events",
    "identity_conflict_product_ids",
    "price_outlier_item_ids",
)


@dataclass
class _Tally:
    """Counters of one run as it goes."""

    rows_valid: int = 0
    rows_rejected: int = 0
    row_warnings: int = 0
    duplicates: int = 0
    duplicate_skus: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outcome: ChunkOutcome = field(default_factory=ChunkOutcome)
    write_seconds: float = 0.0
    rejected_kept: int = 0  # offers whose row was rejected, kept as they were (not missing)

    def add(self, chunk: ChunkOutcome) -> None:
        """Add a chunk's counters (its duplicate SKUs kept to the first few)."""
        counters_add(self.outcome, chunk, fields=CHUNK_TOTALS)
        self.duplicates += chunk.duplicates
        for sku in chunk.duplicate_skus:
            if len(self.duplicate_skus) < DUPLICATE_SKUS_KEPT and sku not in self.duplicate_skus:
                self.duplicate_skus.append(sku)


def feed_ingest(
    *,
    feed_id: int,
    dry_run: bool = False,
    force_unseen: bool = False,
    triggered_by: str = "",
    job_run_id: int | None = None,
    on_progress: Callable[[IngestProgress], None] | None = None,
    read: Reader = feed_read,
    should_stop: Callable[[], bool] | None = None,
) -> FeedRun:
    """Ingest one feed end to end and return its run record.

    Raises ``IngestAlreadyRunning`` (nothing touched) when another ingest of the feed is live.
    A failure while reading ends the run as failed: the rows read before it stay written, and
    missing offers are left alone. ``dry_run`` does everything up to the missing-offer step in a
    transaction that is rolled back, and records what would have happened. ``should_stop`` is
    asked after each chunk: when it says so, the run ends cancelled with its chunks written and no
    offer zeroed (the dirty-set sweep recomputes the products those chunks touched).
    """
    feed = SupplierFeed.objects.select_related("supplier").get(pk=feed_id)
    run = feed_run_start(
        feed=feed,
        triggered_by=triggered_by,
        dry_run=dry_run,
        force_unseen=force_unseen,
        job_run_id=job_run_id,
    )
    started = time.monotonic()
    stats = ReadStats()
    tally = _Tally()
    result = IngestResult()
    try:
        mapper = FeedMapper.objects.filter(feed=feed, is_active=True).first()
        if mapper is None:
            raise FeedReadError(_("The feed has no active mapper profile."), phase="parse")
        _currency_check(feed=feed)
        known = known_items_load(feed=feed, profile=mapper.profile)
        writer = IngestWriter(feed=feed, run=run, now=timezone.now(), known=known)
        rows = read(source=FeedSource.from_feed(feed), profile=mapper.profile, stats=stats, known=known)
        outer = transaction.atomic() if dry_run else contextlib.nullcontext()
        with outer:
            read_error = _rows_write(
                rows=rows,
                writer=writer,
                run=run,
                stats=stats,
                tally=tally,
                live=not dry_run,
                on_progress=on_progress,
                feed=feed,
                should_stop=should_stop,
            )
            result.read_error = read_error
            _unseen_handle(
                feed=feed,
                run=run,
                writer=writer,
                stats=stats,
                tally=tally,
                forced=force_unseen,
                result=result,
            )
            if dry_run:
                transaction.set_rollback(True)
        if not dry_run:
            _catalog_update(
                run=run, tally=tally, on_progress=on_progress, feed=feed, stats=stats, result=result
            )
    except IngestStopped:
        logger.warning("Ingest of feed %s stopped on request after %s rows", feed.pk, stats.rows_read)
        result.stopped = True
        _run_finish(run=run, stats=stats, tally=tally, result=result, started=started)
        return run
    except Exception as exc:
        logger.exception("Ingest of feed %s failed", feed.pk)
        result.crash = exc
        _run_finish(run=run, stats=stats, tally=tally, result=result, started=started)
        if isinstance(exc, FeedReadError):
            return run
        raise
    _run_finish(run=run, stats=stats, tally=tally, result=result, started=started)
    if result.unseen == "skipped" and not dry_run and not result.read_error:
        guard_skipped_notify(feed=feed, run=run, reason=result.unseen_reason)
    return run


def _currency_check(*, feed: SupplierFeed) -> None:
    """A feed in a foreign currency needs a recent exchange rate: without one its costs would be
    guessed, so the run fails before it writes anything."""
    from django.conf import settings

    from catalog.services.rates import currency_rate_fresh

    currency = feed.price_currency
    if currency == settings.GENESYS_SHOP_CURRENCY or currency_rate_fresh(currency=currency):
        return
    raise FeedReadError(
        _(
            "The feed's prices are in %(currency)s and there is no exchange rate of %(currency)s to "
            "%(shop)s from the last %(days)s days: add one in Exchange rates (or check the exchange "
            "rates job) and run the ingest again."
        )
        % {
            "currency": currency,
            "shop": settings.GENESYS_SHOP_CURRENCY,
            "days": settings.GENESYS_FX_MAX_AGE_DAYS,
        },
        phase="download",
    )


def supplier_ingest(
    *,
    supplier_id: int,
    feed_id: int | None = None,
    dry_run: bool = False,
    force_unseen: bool = False,
    triggered_by: str = "",
    job_run_id: int | None = None,
    on_progress: Callable[[IngestProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[FeedRun]:
    """Ingest every active feed of a supplier (or one of them), one after the other; when
    ``should_stop`` says so, the feed being read ends cancelled and the next ones are not read."""
    supplier = Supplier.objects.get(pk=supplier_id)
    feeds = supplier.feeds.filter(pk=feed_id) if feed_id else supplier.feeds.filter(is_active=True)
    runs: list[FeedRun] = []
    for feed in feeds.order_by("name"):
        if should_stop is not None and runs and should_stop():
            break
        runs.append(
            feed_ingest(
                feed_id=feed.pk,
                dry_run=dry_run,
                force_unseen=force_unseen,
                triggered_by=triggered_by,
                job_run_id=job_run_id,
                on_progress=on_progress,
                should_stop=should_stop,
            )
        )
    return runs


def known_items_load(*, feed: SupplierFeed, profile: dict[str, Any]) -> KnownItems | None:
    """The feed's offers as the run begins: the source fingerprints of those an unchanged item
    can match (it skips mapping and writing), and the ids of the others (no fingerprint, or
    missing), for the missing-offer step. None when the feed is too big to hold them in memory:
    every item is then mapped and written, and the step asks the database."""
    offers = SupplierItem.objects.filter(feed=feed).order_by()
    if offers.count() > KNOWN_ITEMS_MAX:
        return None
    matchable = Q(missing_since__isnull=True) & ~Q(raw_hash="")
    return KnownItems(
        profile=profile,
        offers=offers.filter(matchable)
        .order_by("raw_hash")
        .values_list("raw_hash", "id", "sku")
        .iterator(chunk_size=20_000),
        others=offers.exclude(matchable).values_list("id", flat=True).iterator(chunk_size=20_000),
    )


class _ChunkFlusher:
    """Writes the pending rows of a run as one chunk, one transaction each, and reports progress."""

    def __init__(
        self,
        *,
        writer: IngestWriter,
        run: FeedRun,
        stats: ReadStats,
        tally: _Tally,
        live: bool,
        on_progress: Callable[[IngestProgress], None] | None,
        feed: SupplierFeed,
    ) -> None:
        self.writer, self.run, self.stats, self.tally = writer, run, stats, tally
        self.live, self.on_progress, self.feed = live, on_progress, feed
        self.pending: list[MappedRow | SeenRow] = []
        self.rejected_skus: list[str] = []  # rejected rows whose SKU was readable: still listed

    def __call__(self) -> None:
        if not self.pending and not self.rejected_skus:
            return
        began = time.monotonic()
        chunk = None
        with transaction.atomic():
            commit_without_waiting_for_disk()
            if self.pending:
                chunk = self.writer.write(self.pending)
                self.tally.add(chunk)
            if self.rejected_skus:
                self.tally.rejected_kept += self.writer.rejected_seen(skus=self.rejected_skus)
        failpoint("ingest.chunk_committed")
        if chunk is not None and self.live:
            self.writer.statistics_follow(chunk=chunk)
        self.tally.write_seconds += time.monotonic() - began
        self.pending.clear()
        self.rejected_skus.clear()
        self._progress()

    def _progress(self) -> None:
        stats, tally = self.stats, self.tally
        message = _("%(read)s rows read, %(valid)s valid, %(rejected)s rejected") % {
            "read": stats.rows_read,
            "valid": tally.rows_valid,
            "rejected": tally.rows_rejected,
        }
        if self.live:
            feed_run_progress(
                run=self.run,
                fields={
                    "progress": message,
                    "rows_read": stats.rows_read,
                    "rows_valid": tally.rows_valid,
                    "rows_rejected": tally.rows_rejected,
                    "bytes_downloaded": stats.bytes_downloaded,
                },
            )
        if self.on_progress:
            self.on_progress(
                IngestProgress(
                    str(self.feed), stats.rows_read, tally.rows_valid, tally.rows_rejected, "rows",
                    feed_id=self.feed.pk, body_bytes=stats.body_bytes, body_bytes_read=stats.body_bytes_read,
                )
            )  # fmt: skip


def _rows_write(
    *,
    rows: Iterator[MappedRow | RowRejection | SeenRow],
    writer: IngestWriter,
    run: FeedRun,
    stats: ReadStats,
    tally: _Tally,
    live: bool,
    on_progress: Callable[[IngestProgress], None] | None,
    feed: SupplierFeed,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Consume the reader in chunks; returns the read error ('' when the feed was read fully).

    Raises ``IngestStopped`` after a chunk is committed when ``should_stop`` says so."""
    flush = _ChunkFlusher(
        writer=writer, run=run, stats=stats, tally=tally, live=live, on_progress=on_progress, feed=feed
    )
    chunk_rows = settings.INGEST_CHUNK_ROWS
    try:
        for batch in items_read_ahead(rows):
            for row in batch:
                if type(row) is SeenRow:  # most rows of a re-run: nothing to count but the row
                    tally.rows_valid += 1
                elif isinstance(row, RowRejection):
                    _rejection_count(row, tally=tally, rejected_skus=flush.rejected_skus)
                    if len(flush.rejected_skus) >= chunk_rows:
                        flush()
                        _stop_check(should_stop)
                    continue
                else:
                    _valid_count(row, tally=tally)
                flush.pending.append(row)
                if len(flush.pending) >= chunk_rows:
                    flush()
                    _stop_check(should_stop)
    except FeedReadError as exc:
        flush()
        return str(exc)
    flush()
    return ""


def _rejection_count(row: RowRejection, *, tally: _Tally, rejected_skus: list[str]) -> None:
    tally.rows_rejected += 1
    if len(tally.rejected) < REJECTED_ROWS_KEPT:
        tally.rejected.append({"line": row.line, "reason": row.reason, "raw": row.raw})
    if row.sku:
        rejected_skus.append(row.sku)


def _valid_count(row: MappedRow | SeenRow, *, tally: _Tally) -> None:
    tally.rows_valid += 1
    if type(row) is MappedRow and row.warnings:  # a SeenRow had none when it was mapped
        tally.row_warnings += len(row.warnings)
        for warning in row.warnings:
            if len(tally.warnings) < ROW_WARNINGS_KEPT:
                tally.warnings.append(
                    _("line %(line)s: %(warning)s") % {"line": row.line, "warning": warning}
                )


def _stop_check(should_stop: Callable[[], bool] | None) -> None:
    """Between chunks, the only safe point: everything read so far is committed."""
    if should_stop is not None and should_stop():
        raise IngestStopped


def _unseen_handle(
    *,
    feed: SupplierFeed,
    run: FeedRun,
    writer: IngestWriter,
    stats: ReadStats,
    tally: _Tally,
    forced: bool,
    result: IngestResult,
) -> None:
    decision = unseen_guard(
        completed=stats.completed and not result.read_error,
        rows_valid=tally.rows_valid,
        baseline_valid=feed_run_baseline(feed=feed, exclude_run_id=run.pk),
        min_ratio=feed.unseen_min_ratio,
        forced=forced,
    )
    result.unseen_reason = decision.reason
    if not decision.apply:
        result.unseen = "skipped"
        return
    result.zeroed, result.already_zero = writer.unseen_zero()
    tally.outcome.events += result.zeroed
    result.unseen = "forced" if forced else "applied"


def _catalog_update(
    *,
    run: FeedRun,
    tally: _Tally,
    on_progress: Callable[[IngestProgress], None] | None,
    feed: SupplierFeed,
    stats: ReadStats,
    result: IngestResult,
) -> None:
    """Drain the catalog's dirty set: EOL reversals, elections, prices and shop updates.

    The set holds what this run's chunks marked, and whatever an earlier run killed before its
    own catalog step left behind (catalog.services.dirty), so a retry repairs a crash.
    """
    began = time.monotonic()
    if on_progress:
        on_progress(
            IngestProgress(
                str(feed),
                stats.rows_read,
                tally.rows_valid,
                tally.rows_rejected,
                "recompute",
                feed_id=feed.pk,
            )
        )
    pending = dirty_products_count()

    def progress(done: DrainResult) -> None:
        feed_run_progress(
            run=run,
            fields={
                "progress": _("updating the catalog: %(done)s of about %(total)s products")
                % {"done": done.products, "total": max(pending, done.products)}
            },
        )

    feed_run_progress(run=run, fields={"progress": _("updating the catalog")})
    failpoint("ingest.before_catalog")
    drained = dirty_products_drain(on_chunk=progress)
    result.recompute_seconds = time.monotonic() - began
    result.stream_rows = drained.stream_rows
    result.eol_reverted = len(drained.eol_reverted_product_ids)
    result.products_changed = len(drained.changed_product_ids)


def _run_finish(
    *, run: FeedRun, stats: ReadStats, tally: _Tally, result: IngestResult, started: float
) -> None:
    """Record the run's end: status, error, warnings, counters and timings."""
    error = str(result.crash) if result.crash else result.read_error
    outcome = tally.outcome
    conflicts, outliers = len(outcome.identity_conflict_product_ids), len(outcome.price_outlier_item_ids)
    warnings = _run_warnings(stats=stats, tally=tally, result=result)
    if error:
        status = FeedRun.Status.FAILED
    elif result.stopped:
        status = FeedRun.Status.CANCELLED
    elif (
        result.unseen == "skipped"
        or tally.rows_rejected
        or stats.warnings
        or tally.duplicates
        or conflicts
        or outliers
    ):  # warnings about single rows alone leave a run successful
        status = FeedRun.Status.WARNING
    else:
        status = FeedRun.Status.SUCCESS
    _run_record(
        run=run,
        stats=stats,
        tally=tally,
        result=result,
        started=started,
        status=status,
        error=error,
        warnings=warnings,
    )


def _run_warnings(*, stats: ReadStats, tally: _Tally, result: IngestResult) -> list[str]:
    """The run's warnings for its record, the run's own first, then the rows'."""
    warnings = list(stats.warnings)
    if result.unseen == "skipped":
        warnings.insert(
            0, _("Missing offers were not zeroed: %(reason)s.") % {"reason": result.unseen_reason}
        )
    if result.stopped:
        warnings.insert(
            0,
            _("Stopped on request after %(rows)s valid rows (all written); missing offers were not zeroed.")
            % {"rows": tally.rows_valid},
        )
    if tally.rejected_kept:
        warnings.append(
            _(
                "%(count)s offers whose rows were rejected keep their last known price and stock "
                "(they are not counted as missing)."
            )
            % {"count": tally.rejected_kept}
        )
    if tally.duplicates:
        shown = ", ".join(tally.duplicate_skus)
        if tally.duplicates > len(tally.duplicate_skus):
            shown += ", …"
        warnings.append(
            _("%(count)s SKUs were listed more than once; the last line of each won (%(skus)s).")
            % {"count": tally.duplicates, "skus": shown}
        )
    outcome = tally.outcome
    conflicts, outliers = len(outcome.identity_conflict_product_ids), len(outcome.price_outlier_item_ids)
    if conflicts:
        warnings.append(
            ngettext(
                "%(count)s product has SKUs in this feed that disagree (an identity conflict): "
                "their offers are held until an operator resolves it.",
                "%(count)s products have SKUs in this feed that disagree (identity conflicts): "
                "their offers are held until an operator resolves them.",
                conflicts,
            )
            % {"count": conflicts}
        )
    if outliers:
        warnings.append(
            ngettext(
                "%(count)s offer costs far less than the other suppliers' offers of its product "
                "(a price outlier): it is held for review.",
                "%(count)s offers cost far less than the other suppliers' offers of their products "
                "(price outliers): they are held for review.",
                outliers,
            )
            % {"count": outliers}
        )
    warnings.extend(tally.warnings)
    return warnings


def _run_record(
    *,
    run: FeedRun,
    stats: ReadStats,
    tally: _Tally,
    result: IngestResult,
    started: float,
    status: str,
    error: str,
    warnings: list[str],
) -> None:
    outcome = tally.outcome
    conflicts, outliers = len(outcome.identity_conflict_product_ids), len(outcome.price_outlier_item_ids)
    run.status = status
    run.finished_at = timezone.now()
    # The record is text stored by the database: nothing quoted from the feed may carry a NUL.
    run.error = controls_escape(error)
    run.timings = {
        "download": round(stats.download_seconds, 3),
        "parse": round(stats.parse_seconds, 3),
        "write": round(tally.write_seconds, 3),
        "recompute": round(result.recompute_seconds, 3),
        "total": round(time.monotonic() - started, 3),
    }
    run.bytes_downloaded = stats.bytes_downloaded
    run.pages_fetched = stats.pages_fetched
    run.rows_read = stats.rows_read
    run.rows_valid = tally.rows_valid
    run.rows_rejected = tally.rows_rejected
    run.warnings_count = (
        len(stats.warnings)
        + tally.row_warnings
        + (1 if tally.duplicates else 0)
        + bool(conflicts)
        + bool(outliers)
    )
    run.identity_conflicts = conflicts
    run.price_outliers = outliers
    run.products_created = outcome.products_created
    run.products_updated = outcome.products_updated
    run.offers_created = outcome.offers_created
    run.offers_changed = outcome.offers_changed
    run.offers_unchanged = outcome.offers_unchanged
    run.offers_zeroed = result.zeroed
    run.events_created = outcome.events + result.eol_reverted
    run.stream_rows = result.stream_rows
    run.unseen_handling = result.unseen
    run.warnings = [controls_escape(warning) for warning in warnings]
    run.rejected_rows = [{**row, "reason": controls_escape(row["reason"])} for row in tally.rejected]
    run.progress = _("failed") if error else _("stopped") if result.stopped else _("finished")
    run.save()
