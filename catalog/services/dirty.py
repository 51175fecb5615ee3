"""The durable intent of the catalog step: products whose offers changed, until recomputed.

An ingest marks the products a chunk touched (``products_mark_dirty``) in the chunk's own
transaction, so a crash at any point after the commit leaves the intent in the database; the
fingerprints committed with the chunk can no longer hide the change from the next run.
``dirty_products_drain`` applies the marks: per chunk, under the recompute mutex, it reads the
marks, reverts EOL where an offer is back in stock, re-elects and re-prices, queues the shop
updates and deletes exactly the marks it read (a mark renewed meanwhile has a new ``version``
and stays for the next drain). The ingest's final step, its retry and the periodic sweep
(``catalog_recompute`` with scope ``dirty``) all drain the same set, so whichever runs first
after a crash brings the catalog and the shop to what a clean run would have produced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import DirtyProduct, ProductSupplierEvent
from catalog.services.events import EventRow, product_events_insert
from catalog.services.offers import (
    Reason,
    RecomputeResult,
    RecomputeRules,
    recompute_mutex_take,
    recompute_rules,
    recompute_set_apply,
)
from catalog.sql import dialect
from genesys.db import bulk_insert, quote
from genesys.failpoints import failpoint

_TABLE = DirtyProduct._meta.db_table


def products_mark_dirty(*, product_ids: Iterable[int], run_id: int | None = None) -> int:
    """Record that these products need a recompute; in the caller's transaction, one statement.

    A product already marked gets a new ``version``, so a drain that read the older mark
    before this transaction committed leaves the new one in place.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return 0
    now = timezone.now()
    with connection.cursor() as cursor:
        bulk_insert(
            table=_TABLE,
            columns=[("product_id", "bigint"), ("version", "bigint"), ("marked_at", "timestamptz"),
                     ("run_id", "bigint")],
            rows=[(pid, 1, now, run_id) for pid in ids],
            cursor=cursor,
            on_conflict=(
                f"ON CONFLICT (product_id) DO UPDATE SET version = {quote(_TABLE)}.version + 1, "
                "marked_at = excluded.marked_at, run_id = excluded.run_id"
            ),
        )  # fmt: skip
    return len(ids)


@dataclass
class DrainResult(RecomputeResult):
    chunks: int = 0
    eol_reverted_product_ids: list[int] = field(default_factory=list)
    run_ids: set[int] = field(default_factory=set)
    stopped: bool = False  # should_stop said so before every mark was drained


def dirty_products_count() -> int:
    return DirtyProduct.objects.count()


def dirty_products_drain(
    *,
    chunk_size: int | None = None,
    max_chunks: int | None = None,
    now: datetime | None = None,
    on_chunk: Callable[[DrainResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DrainResult:
    """Recompute every marked product, a chunk per transaction, until no mark is left (or
    ``should_stop`` says so between chunks: the marks left wait for the next drain).

    Safe to run concurrently with ingests and with other drains: chunks serialise on the
    recompute mutex and each reads the marks only after taking it, so two drains never apply
    the same mark twice, and a mark written after the read survives the delete.
    """
    rules = recompute_rules(now)
    chunk_size = chunk_size or settings.CATALOG_RECOMPUTE_CHUNK
    total = DrainResult()
    while max_chunks is None or total.chunks < max_chunks:
        if should_stop is not None and should_stop():
            total.stopped = True
            break
        with transaction.atomic():
            drained = _chunk_drain(rules=rules, chunk_size=chunk_size)
        if drained is None:
            break
        chunk, reverted, run_ids = drained
        total.add(chunk)
        total.chunks += 1
        total.eol_reverted_product_ids.extend(reverted)
        total.run_ids.update(run_ids)
        failpoint("catalog.drain_chunk_committed")
        if on_chunk:
            on_chunk(total)
    if total.prices_held and total.run_ids:
        from catalog.services.approvals import price_approvals_notify

        price_approvals_notify(run_ids=total.run_ids)
    return total


def _chunk_drain(
    *, rules: RecomputeRules, chunk_size: int
) -> tuple[RecomputeResult, list[int], set[int]] | None:
    """One chunk, in the caller's transaction: stage the first marks as read (product, version,
    run), revert EOL where an offer is back in stock, recompute the set, delete the marks staged.

    Returns the recompute, the products brought back from EOL and the runs that marked the
    chunk; None when no mark is left. The marks never travel through Python.
    """
    recompute_mutex_take()
    sql = dialect()
    with connection.cursor() as cursor:
        sql.recompute_set_reset(cursor)
        staged = sql.recompute_set_fill_marks(cursor, limit=chunk_size)
        if not staged:
            return None
        reverted = sql.recompute_set_eol_revert(cursor, now=rules.now)
        run_ids = sql.recompute_set_run_ids(cursor)
    product_events_insert(
        events=[
            EventRow(pid, ProductSupplierEvent.Reason.EOL_REVERTED, rules.now, run_id=run_id,
                     note="offer back in stock")
            for pid, run_id in reverted
        ]
    )  # fmt: skip
    failpoint("catalog.drain_chunk_computed")
    reverted_ids = frozenset(pid for pid, _ in reverted)

    def reasons(pid: int) -> list[str]:
        return [Reason.EOL_REVERTED] if pid in reverted_ids else [Reason.INGEST]

    chunk = recompute_set_apply(rules=rules, reasons=reasons, staged=staged, eol_reverted=reverted_ids)
    with connection.cursor() as cursor:
        sql.recompute_set_marks_delete(cursor)
    return chunk, sorted(reverted_ids), run_ids
