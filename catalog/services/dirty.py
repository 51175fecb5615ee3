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
from django.db.models import Exists, OuterRef
from django.utils import timezone

from catalog.models import DirtyProduct, Product, ProductSupplierEvent
from catalog.selectors import offers_in_stock
from catalog.services.events import EventRow, product_events_insert
from catalog.services.offers import (
    RECOMPUTE_MUTEX,
    Reason,
    RecomputeResult,
    recompute_chunk_apply,
    recompute_chunk_lock,
    recompute_rules,
)
from genesys.db import bulk_insert, quote, transaction_mutex
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
            with connection.cursor() as cursor:
                transaction_mutex(name=RECOMPUTE_MUTEX, cursor=cursor)
            marks = list(
                DirtyProduct.objects.order_by("product_id").values_list("product_id", "version", "run_id")[
                    :chunk_size
                ]
            )
            if not marks:
                break
            ids = [pid for pid, _, _ in marks]
            # The state the shop was last told about is read before any flag changes, so the
            # shop update carries an EOL reversal.
            products, previous = recompute_chunk_lock(ids)
            run_of = {pid: run_id for pid, _, run_id in marks}
            reverted = _eol_revert_in_stock(product_ids=ids, run_of=run_of, now=rules.now)
            for pid in reverted:
                products[pid]["is_eol"] = False
            failpoint("catalog.drain_chunk_computed")

            def reasons(pid: int, _reverted=frozenset(reverted)) -> list[str]:
                return [Reason.EOL_REVERTED] if pid in _reverted else [Reason.INGEST]

            chunk = recompute_chunk_apply(
                products=products, previous=previous, reasons=reasons, rules=rules, run_of=run_of
            )
            _marks_delete(marks=[(pid, version) for pid, version, _ in marks])
        total.add(chunk)
        total.chunks += 1
        total.eol_reverted_product_ids.extend(reverted)
        total.run_ids.update(run_id for _, _, run_id in marks if run_id is not None)
        failpoint("catalog.drain_chunk_committed")
        if on_chunk:
            on_chunk(total)
    if total.prices_held and total.run_ids:
        from catalog.services.approvals import price_approvals_notify

        price_approvals_notify(run_ids=total.run_ids)
    return total


def _eol_revert_in_stock(
    *, product_ids: list[int], run_of: dict[int, int | None], now: datetime
) -> list[int]:
    """EOL products among these with an offer in stock come back (the flag, and an event).

    Offers on hold do not count: they cannot be sold until an operator decides. The caller
    holds the recompute mutex and applies the new flag to the products it read before this.
    """
    ids = list(
        Product.objects.filter(id__any_of=product_ids, is_eol=True)
        .filter(Exists(offers_in_stock(product=OuterRef("pk"))))
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not ids:
        return []
    Product.objects.filter(id__any_of=ids).update(is_eol=False, updated_at=now)
    product_events_insert(
        events=[
            EventRow(
                pid,
                ProductSupplierEvent.Reason.EOL_REVERTED,
                now,
                run_id=run_of.get(pid),
                note="offer back in stock",
            )
            for pid in ids
        ]
    )
    return ids


def _marks_delete(*, marks: list[tuple[int, int]]) -> None:
    """Delete the marks as read: a mark renewed since (a higher version) stays."""
    if not marks:
        return
    with connection.cursor() as cursor:
        if cursor.db.vendor == "postgresql":
            cursor.execute(
                f"DELETE FROM {quote(_TABLE)} AS d USING unnest(%s::bigint[], %s::bigint[]) AS m(pid, ver) "  # noqa: S608
                "WHERE d.product_id = m.pid AND d.version = m.ver",
                [[pid for pid, _ in marks], [ver for _, ver in marks]],
            )
        else:
            size = 400
            for start in range(0, len(marks), size):
                batch = marks[start : start + size]
                cursor.execute(
                    f"DELETE FROM {quote(_TABLE)} WHERE (product_id, version) IN "  # noqa: S608
                    f"(VALUES {', '.join(['(%s, %s)'] * len(batch))})",
                    [value for mark in batch for value in mark],
                )
