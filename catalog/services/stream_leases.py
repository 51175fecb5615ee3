"""The consumer side of the catalog update stream: claim rows under a lease, then settle them.

A row's life (docs/prestashop.md has the operator's view):

    pending ──claim──► processing ──settle──► done
       ▲                   │ │
       │  transient error, │ └──────────────► failed  (permanent error, or too many attempts)
       │  lease expired    │                     │
       └───────────────────┘                     │
       └──────────── operator retry ─────────────┘

* **Claim**: pending rows whose ``next_attempt_at`` has come, of products the shop knows
  (``id_ecommerce`` set) and with no row of the same product in flight, by priority then age.
  They become ``processing`` with a lease (``locked_until``) and their ``attempts`` grows by
  one. PostgreSQL picks them with ``FOR UPDATE SKIP LOCKED`` inside one ``UPDATE … RETURNING``,
  so concurrent drainers take disjoint rows without waiting for each other; SQLite runs the same
  conditional ``UPDATE … RETURNING`` in Genesys' IMMEDIATE transactions, which serialise writers.
* **One row per product in flight**: a change arriving during a send becomes a new pending row
  (the partial unique index covers pending rows only), and it is not claimed until the row in
  flight is settled, so the shop receives a product's states in order.
* **A claim is (row id, attempts)**: settling checks both and the ``processing`` status, so a
  drainer that lost its lease (its row was re-queued, maybe re-claimed) changes nothing. What it
  may have sent late is repaired by queueing the product's current state again (``resync``).
* **Back to pending meets a newer pending row** (a change that arrived during the send): the two
  merge. The newer payload wins (it is the later state), reasons accumulate, the priority is the
  higher one, attempts and age are the older row's, and the older row is deleted.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import CatalogUpdateStream, Product
from catalog.models.update_stream import DEFAULT_SHOP
from catalog.notifications import parked_rows_notify
from catalog.services.offers import RECOMPUTE_MUTEX, product_shop_payloads
from catalog.services.update_stream import StreamChange, stream_changes_enqueue
from genesys.db import quote, transaction_mutex

Status = CatalogUpdateStream.Status
ERROR_MAX_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class StreamRetrySchedule:
    """When a row that failed for a transient reason is tried again, and when to give up."""

    backoff_base: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(minutes=30)
    max_attempts: int = 12  # about four hours of a shop that keeps failing

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """Exponential in the attempts, capped, with equal jitter: half fixed, half random, so
        rows that failed together (a shop outage) do not all come back in the same second."""
        base = self.backoff_base.total_seconds()
        full = min(self.backoff_max.total_seconds(), base * 2 ** max(0, attempts - 1))
        return timedelta(seconds=full / 2 + (rng or random).random() * full / 2)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    id: int
    product_id: int
    attempts: int  # including this claim; with ``id`` it identifies the claim
    payload: dict[str, Any]
    id_ecommerce: int | None


@dataclass(frozen=True, slots=True)
class Claim:
    rows: list[ClaimedRow]
    locked_until: datetime


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What happened to a claimed row; ``permanent`` failures are parked, others retried."""

    row_id: int
    product_id: int
    attempts: int
    ok: bool
    error: str = ""
    permanent: bool = False


@dataclass
class SettleResult:
    done: int = 0
    retried: int = 0  # back to pending (including merged into a newer pending row)
    failed: int = 0
    merged: int = 0
    lost: int = 0  # the claim had expired; the product's current state was queued again
    lost_product_ids: list[int] = field(default_factory=list)


@dataclass
class ReleaseResult:
    released: int = 0  # expired leases back to pending (including merged)
    merged: int = 0
    failed: int = 0  # expired once too often: parked


@dataclass
class RetryResult:
    requeued: int = 0  # failed rows back to pending
    merged: int = 0  # failed rows folded into a pending row of the same product
    skipped: int = 0  # not failed (any more)


def _table() -> str:
    return quote(CatalogUpdateStream._meta.db_table)


def _db_time(value: datetime | None) -> Any:
    """Raw SQL needs what Django would store: naive UTC text on SQLite, the value on PostgreSQL."""
    return None if value is None else connection.ops.adapt_datetimefield_value(value)


def _load_json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else (value or {})


# --- claim -----------------------------------------------------------------------------------


def stream_rows_claim(
    *, limit: int, lease: timedelta, shop: str = DEFAULT_SHOP, now: datetime | None = None
) -> Claim:
    """Take up to ``limit`` due rows of products the shop knows, by priority then age."""
    now = now or timezone.now()
    locked_until = now + lease
    table, products = _table(), quote(Product._meta.db_table)
    pending, processing = Status.PENDING.value, Status.PROCESSING.value
    due = (
        f"SELECT s.id FROM {table} s JOIN {products} p ON p.id = s.product_id "  # noqa: S608 (own tables)
        f"WHERE s.status = '{pending}' AND s.shop = %s AND s.next_attempt_at <= %s "
        "AND p.id_ecommerce IS NOT NULL "
        # Products with a row in flight, read once (a hashed subplan): a per-row anti-join probe
        # is what the planner picks without fresh statistics, and it walks the dead index
        # entries of every row that was ever processing.
        f"AND s.product_id NOT IN (SELECT o.product_id FROM {table} o WHERE o.status = '{processing}' "
        "AND o.shop = %s) "
        "ORDER BY s.priority DESC, s.created_at, s.id LIMIT %s"
    )
    set_claimed = f"status = '{processing}', locked_until = %s, attempts = {{t}}attempts + 1, updated_at = %s"
    if connection.vendor == "postgresql":
        sql = (
            f"WITH picked AS ({due} FOR UPDATE OF s SKIP LOCKED) "  # noqa: S608
            f"UPDATE {table} AS t SET {set_claimed.format(t='t.')} FROM picked WHERE t.id = picked.id "
            "RETURNING t.id, t.product_id, t.attempts, t.payload"
        )
        params: list[str | int | datetime] = [shop, now, shop, limit, locked_until, now]
    else:
        sql = (
            f"UPDATE {table} SET {set_claimed.format(t='')} "  # noqa: S608
            f"WHERE id IN ({due}) AND status = '{pending}' RETURNING id, product_id, attempts, payload"
        )
        params = [_db_time(locked_until), _db_time(now), shop, _db_time(now), shop, limit]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        claimed = cursor.fetchall()
        shop_ids = dict(
            Product.objects.filter(id__any_of=[row[1] for row in claimed]).values_list("id", "id_ecommerce")
        )
    rows = [
        ClaimedRow(
            id=row_id,
            product_id=product_id,
            attempts=attempts,
            payload=_load_json(payload),
            id_ecommerce=shop_ids.get(product_id),
        )
        for row_id, product_id, attempts, payload in sorted(claimed)
    ]
    return Claim(rows=rows, locked_until=locked_until)


# --- settle ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Final:
    row_id: int
    attempts: int
    status: str
    error: str = ""
    next_attempt_at: datetime | None = None  # None keeps the stored value
    processed_at: datetime | None = None


def _update_claimed(rows: Sequence[_Final], *, now: datetime) -> set[int]:
    """Settle claimed rows with per-row values in one statement; returns the ids still ours.

    A row is ours while it is ``processing`` with the attempts of our claim.
    """
    if not rows:
        return set()
    table, processing = _table(), Status.PROCESSING.value
    assignments = (
        "status = v.status, last_error = v.last_error, "
        "next_attempt_at = COALESCE(v.next_attempt_at, t.next_attempt_at), "
        "processed_at = v.processed_at, locked_until = NULL, updated_at = %s"
    )
    condition = f"t.id = v.id AND t.attempts = v.attempts AND t.status = '{processing}'"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM unnest("  # noqa: S608 (own table)
                "%s::bigint[], %s::integer[], %s::text[], %s::timestamptz[], %s::text[], %s::timestamptz[]"
                ") AS v(id, attempts, status, next_attempt_at, last_error, processed_at) "
                f"WHERE {condition} RETURNING t.id",
                [
                    now,
                    [r.row_id for r in rows],
                    [r.attempts for r in rows],
                    [r.status for r in rows],
                    [r.next_attempt_at for r in rows],
                    [r.error[:ERROR_MAX_LENGTH] for r in rows],
                    [r.processed_at for r in rows],
                ],
            )
        else:
            values = json.dumps(
                [
                    [
                        r.row_id,
                        r.attempts,
                        r.status,
                        _db_time(r.next_attempt_at),
                        r.error[:ERROR_MAX_LENGTH],
                        _db_time(r.processed_at),
                    ]
                    for r in rows
                ]
            )
            columns = ("id", "attempts", "status", "next_attempt_at", "last_error", "processed_at")
            select = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(columns))
            cursor.execute(
                # MATERIALIZED: otherwise SQLite walks the status index and rescans the JSON for
                # every row (seconds for a batch). RETURNING names the table's columns unqualified.
                f"WITH v AS MATERIALIZED (SELECT {select} FROM json_each(%s)) "  # noqa: S608 (own table)
                f"UPDATE {table} AS t SET {assignments} FROM v WHERE {condition} RETURNING id",
                [values, _db_time(now)],
            )
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True, slots=True)
class _Requeue:
    row_id: int
    product_id: int
    attempts: int
    next_attempt_at: datetime
    error: str


def _merge_into_pending(older: CatalogUpdateStream, pending: CatalogUpdateStream, *, error: str,
                        next_attempt_at: datetime, carry_attempts: bool) -> None:  # fmt: skip
    """Fold an older row into the product's pending row (which holds the later state)."""
    pending.reasons = list(dict.fromkeys([*(older.reasons or []), *(pending.reasons or [])]))
    pending.priority = max(pending.priority, older.priority)
    if carry_attempts:
        pending.attempts = max(pending.attempts, older.attempts)
    pending.next_attempt_at = next_attempt_at
    pending.created_at = min(pending.created_at, older.created_at)
    if error:
        pending.last_error = error[:ERROR_MAX_LENGTH]
    pending.save(
        update_fields=[
            "reasons",
            "priority",
            "attempts",
            "next_attempt_at",
            "created_at",
            "last_error",
            "updated_at",
        ]
    )
    older.delete()


def _pending_of(product_ids: Collection[int], shop: str) -> dict[int, CatalogUpdateStream]:
    rows = CatalogUpdateStream.objects.select_for_update().filter(
        product_id__any_of=list(product_ids), shop=shop, status=Status.PENDING
    )
    return {row.product_id: row for row in rows}


def _requeue(items: Sequence[_Requeue], *, shop: str, now: datetime) -> tuple[int, int, list[int]]:
    """Claimed rows back to pending, merged where a newer pending row exists.

    Returns (rows back to pending, of which merged, row ids whose claim was lost). Locks the
    claimed rows before the pending ones, the order every other path takes too.
    """
    if not items:
        return 0, 0, []
    ours = {
        (row_id, attempts)
        for row_id, attempts in CatalogUpdateStream.objects.select_for_update()
        .filter(id__any_of=[i.row_id for i in items], status=Status.PROCESSING)
        .values_list("id", "attempts")
    }
    lost = [i.row_id for i in items if (i.row_id, i.attempts) not in ours]
    items = [i for i in items if (i.row_id, i.attempts) in ours]
    pending = _pending_of({i.product_id for i in items}, shop)
    direct = [i for i in items if i.product_id not in pending]
    merge = [i for i in items if i.product_id in pending]
    try:
        # A change queued between our look-up and this update would break the unique index of
        # pending rows: the savepoint lets us fall back to merging row by row.
        with transaction.atomic():
            _update_claimed(
                [_Final(i.row_id, i.attempts, Status.PENDING, i.error, i.next_attempt_at) for i in direct],
                now=now,
            )
    except IntegrityError:
        merge = items
    merged = 0
    for item in merge:
        older = CatalogUpdateStream.objects.select_for_update().filter(
            id=item.row_id, attempts=item.attempts, status=Status.PROCESSING
        )
        older_row = older.first()
        if older_row is None:
            continue  # already moved by the bulk update above
        newer = pending.get(item.product_id) or _pending_of([item.product_id], shop).get(item.product_id)
        if newer is None:
            _update_claimed(
                [_Final(item.row_id, item.attempts, Status.PENDING, item.error, item.next_attempt_at)],
                now=now,
            )
            continue
        _merge_into_pending(
            older_row,
            newer,
            error=item.error,
            next_attempt_at=max(newer.next_attempt_at, item.next_attempt_at),
            carry_attempts=True,
        )
        merged += 1
    return len(items), merged, lost


def stream_rows_settle(
    *,
    outcomes: Sequence[RowOutcome],
    shop: str = DEFAULT_SHOP,
    policy: StreamRetrySchedule | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> SettleResult:
    """Record what the shop answered for claimed rows.

    ok → ``done``; permanent failure, or a transient one on the last allowed attempt → ``failed``
    (parked for the operator); other failures → ``pending`` again after a backoff. Rows whose claim
    was lost are left alone and their products' current state is queued again.
    """
    policy = policy or StreamRetrySchedule()
    now = now or timezone.now()
    result = SettleResult()
    finals: list[_Final] = []
    retries: list[_Requeue] = []
    for outcome in outcomes:
        if outcome.ok:
            finals.append(_Final(outcome.row_id, outcome.attempts, Status.DONE, processed_at=now))
        elif outcome.permanent or policy.exhausted(outcome.attempts):
            error = (
                outcome.error
                if outcome.permanent
                else f"gave up after {outcome.attempts} attempts: {outcome.error}"
            )
            finals.append(_Final(outcome.row_id, outcome.attempts, Status.FAILED, error))
        else:
            retries.append(
                _Requeue(
                    outcome.row_id,
                    outcome.product_id,
                    outcome.attempts,
                    now + policy.delay(outcome.attempts, rng),
                    outcome.error,
                )
            )
    with transaction.atomic():
        settled = _update_claimed(finals, now=now)
        requeued, merged, lost_rows = _requeue(retries, shop=shop, now=now)
    by_row = {outcome.row_id: outcome for outcome in outcomes}
    for final in finals:
        if final.row_id not in settled:
            lost_rows.append(final.row_id)
        elif final.status == Status.DONE:
            result.done += 1
        else:
            result.failed += 1
    result.retried, result.merged, result.lost = requeued, merged, len(lost_rows)
    result.lost_product_ids = sorted({by_row[row_id].product_id for row_id in lost_rows})
    if result.lost_product_ids:
        stream_products_resync(product_ids=result.lost_product_ids, shop=shop, now=now)
    if result.failed:
        parked_rows_notify(
            shop=shop, parked=CatalogUpdateStream.objects.filter(shop=shop, status=Status.FAILED).count()
        )
    return result


def stream_products_resync(
    *, product_ids: Collection[int], shop: str = DEFAULT_SHOP, now: datetime | None = None
) -> int:
    """Queue the current state of these products (as the last recompute left it) for the shop."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            transaction_mutex(name=RECOMPUTE_MUTEX, cursor=cursor)
        payloads = product_shop_payloads(product_ids=product_ids)
        changes = [
            StreamChange(product_id=pid, payload=payload, reasons=[CatalogUpdateStream.Reason.RESYNC],
                         priority=CatalogUpdateStream.Priority.OTHER, shop=shop)
            for pid, payload in payloads.items()
        ]  # fmt: skip
        return stream_changes_enqueue(changes=changes, now=now)


# --- leases ----------------------------------------------------------------------------------

RELEASE_BATCH = 1000


def stream_leases_release(
    *,
    shop: str = DEFAULT_SHOP,
    policy: StreamRetrySchedule | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
    drainer_dead: bool = False,
) -> ReleaseResult:
    """Rows whose lease expired (their drainer died or hung) go back to pending.

    The expiry counts as a failed attempt, so a row that kills its drainer every time is parked
    after ``max_attempts`` instead of looping forever. ``drainer_dead``: the ledger knows the
    only drainer died (the watchdog abandoned it), so every lease is released now and the rows
    are due at once, without waiting for their lease or a backoff.
    """
    policy = policy or StreamRetrySchedule()
    now = now or timezone.now()
    result = ReleaseResult()
    with transaction.atomic():
        expired = CatalogUpdateStream.objects.filter(shop=shop, status=Status.PROCESSING).order_by("id")
        if not drainer_dead:
            expired = expired.filter(locked_until__lt=now)
        if connection.vendor == "postgresql":
            expired = expired.select_for_update(skip_locked=True)  # a drainer settling it keeps it
        rows = list(expired.values_list("id", "product_id", "attempts")[:RELEASE_BATCH])
        if not rows:
            return result
        error = "lease expired before the row was settled (the drainer stopped or hung)"
        finals = [
            _Final(row_id, attempts, Status.FAILED, f"gave up after {attempts} attempts: {error}")
            for row_id, _, attempts in rows
            if policy.exhausted(attempts)
        ]
        result.failed = len(_update_claimed(finals, now=now))
        if drainer_dead:
            error = "the sync worker died before the row was settled"
        requeue = [
            _Requeue(
                row_id,
                product_id,
                attempts,
                now if drainer_dead else now + policy.delay(attempts, rng),
                error,
            )
            for row_id, product_id, attempts in rows
            if not policy.exhausted(attempts)
        ]
        result.released, result.merged, _ = _requeue(requeue, shop=shop, now=now)
    return result


# --- operator retry --------------------------------------------------------------------------


def stream_rows_retry(*, row_ids: Collection[int], now: datetime | None = None) -> RetryResult:
    """Put failed rows back to pending, now, with the product's current state.

    Per product and shop, every selected failed row folds into one pending row: the existing
    pending row if there is one, else the newest failed row. The payload is the product's current
    state, never the failed row's old one, so a retry can never send the shop an outdated price.
    Attempts start again from zero.
    """
    now = now or timezone.now()
    result = RetryResult()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # No recompute may commit between reading the current state and writing it here.
            transaction_mutex(name=RECOMPUTE_MUTEX, cursor=cursor)
        failed = list(
            CatalogUpdateStream.objects.select_for_update()
            .filter(id__any_of=list(row_ids), status=Status.FAILED)
            .order_by("id")
        )
        result.skipped = len(set(row_ids)) - len(failed)
        groups: dict[tuple[int, str], list[CatalogUpdateStream]] = defaultdict(list)
        for row in failed:
            groups[(row.product_id, row.shop)].append(row)
        payloads = product_shop_payloads(product_ids={product_id for product_id, _ in groups})
        for (product_id, shop), rows in groups.items():
            keep = rows[-1]
            for older in rows[:-1]:
                _merge_into_pending(older, keep, error="", next_attempt_at=now, carry_attempts=False)
                result.merged += 1
            keep.payload = payloads.get(product_id, keep.payload)
            pending = _pending_of([product_id], shop).get(product_id)
            if pending is None:
                try:
                    with transaction.atomic():
                        CatalogUpdateStream.objects.filter(pk=keep.pk).update(
                            status=Status.PENDING,
                            attempts=0,
                            payload=keep.payload,
                            next_attempt_at=now,
                            locked_until=None,
                            processed_at=None,
                            updated_at=now,
                        )
                    result.requeued += 1
                    continue
                except IntegrityError:  # a drainer re-queued a row of this product meanwhile
                    pending = _pending_of([product_id], shop)[product_id]
            pending.payload = payloads.get(product_id, pending.payload)
            pending.save(update_fields=["payload", "updated_at"])
            _merge_into_pending(keep, pending, error="", next_attempt_at=now, carry_attempts=False)
            result.merged += 1
    return result
