"""The sync worker: drain the catalog update stream into the shop (``stream_drain``).

Each round releases expired leases, claims a batch of due rows (``catalog.services.stream_leases``
has the claim, lease and settle rules), sends their price, stock and active flag with one
``client.update_products`` call (the client batches and bounds its concurrency), and settles each
row from the shop's answer. The claim and the settle are short transactions of their own; the
send happens between them, outside any transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from catalog.models.update_stream import DEFAULT_SHOP
from catalog.policies.shop_state import ShopState
from catalog.services.stream_leases import (
    ClaimedRow,
    RowOutcome,
    SettleResult,
    StreamRetrySchedule,
    stream_leases_release,
    stream_rows_claim,
    stream_rows_settle,
)
from genesys.counters import counters_add
from genesys.failpoints import failpoint
from prestashop.errors import ShopError
from prestashop.notifications import shop_refused_notify
from prestashop.types import ProductUpdate, ShopClient, UpdateResult

logger = logging.getLogger("prestashop.sync")

AUTH_STATUSES = (401, 403)


@dataclass(frozen=True, slots=True)
class SyncPolicy:
    lease: timedelta = timedelta(minutes=5)  # far above one batch's worst send time
    retry: StreamRetrySchedule = field(default_factory=StreamRetrySchedule)


@dataclass
class StreamDrainResult:
    batches: int = 0
    claimed: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    merged: int = 0  # re-queued rows folded into a newer pending row of the same product
    lost: int = 0  # rows whose lease expired under us; their products were queued again
    leases_released: int = 0
    seconds: float = 0.0
    stopped: str = ""  # empty | max_batches | stop_requested | shop_refused
    error: str = ""


def default_batch_size(client: ShopClient) -> int:
    """Rows per claim: one full round of the client's parallel requests."""
    config = getattr(client, "config", None)
    if config is None:
        return 500
    if client.backend == "r_genesys":
        return config.batch_size * config.concurrency
    return config.concurrency * 25  # the Webservice takes one product per request (two or three)


def shop_update_from_payload(payload: dict[str, Any], *, id_ecommerce: int | None) -> ProductUpdate:
    """The shop values of a stream payload (``catalog.policies.shop_state.ShopState``): net
    price, quantity, active.

    Without an active offer the price is null: the shop keeps its price, with stock 0, inactive.
    Raises ValueError for a payload that cannot be sent (a permanent failure).
    """
    state = ShopState.from_json(payload)
    if id_ecommerce is None:
        raise ValueError("the product has no shop id")
    return ProductUpdate(
        id_product=id_ecommerce, price=state.price, quantity=max(0, state.quantity), active=state.active
    )


def _outcome(row: ClaimedRow, result: UpdateResult) -> RowOutcome:
    if result.ok:
        return RowOutcome(row.id, row.product_id, row.attempts, ok=True)
    # A refused key is the configuration's fault, not the product's: never park rows for it.
    permanent = result.permanent and result.status not in AUTH_STATUSES
    error = result.error or result.code or "the shop refused the update"
    return RowOutcome(row.id, row.product_id, row.attempts, ok=False, error=error, permanent=permanent)


def _send(client: ShopClient, rows: Sequence[ClaimedRow]) -> tuple[list[RowOutcome], str]:
    """Send the rows; returns their outcomes and, if the shop refused the key, why."""
    outcomes: list[RowOutcome] = []
    sendable: list[tuple[ClaimedRow, ProductUpdate]] = []
    for row in rows:
        try:
            sendable.append((row, shop_update_from_payload(row.payload, id_ecommerce=row.id_ecommerce)))
        except ValueError as exc:
            outcomes.append(
                RowOutcome(row.id, row.product_id, row.attempts, ok=False, error=str(exc), permanent=True)
            )
    if not sendable:
        return outcomes, ""
    try:
        results = client.update_products([update for _, update in sendable])
    except ShopError as exc:  # the clients answer per item; this is a whole-call failure
        results = [
            UpdateResult(update.id_product, ok=False, error=str(exc), code=exc.code, status=exc.status,
                         permanent=exc.permanent)
            for _, update in sendable
        ]  # fmt: skip
    if len(results) != len(sendable):
        raise RuntimeError(f"the shop client answered {len(results)} results for {len(sendable)} updates")
    refused = ""
    for (row, _update), result in zip(sendable, results, strict=True):
        outcomes.append(_outcome(row, result))
        if not result.ok and result.status in AUTH_STATUSES:
            refused = result.error
    return outcomes, refused


def _settled_count(result: StreamDrainResult, settled: SettleResult) -> None:
    counters_add(result, settled, fields=("done", "retried", "failed", "merged", "lost"))
    if settled.lost:
        logger.warning("lost the lease of %d rows; their products were queued again", settled.lost)


def stream_drain(
    *,
    client: ShopClient,
    shop: str = DEFAULT_SHOP,
    batch_size: int | None = None,
    max_batches: int | None = None,
    policy: SyncPolicy | None = None,
    should_stop: Callable[[], bool] | None = None,
    now: datetime | None = None,
) -> StreamDrainResult:
    """Send due stream rows to the shop until none is left (or ``max_batches``, or ``should_stop``).

    ``now`` fixes the clock (tests); by default each round reads the time. Rows retried after a
    transient failure are due later, so one drain never hammers a failing shop. Two drainers can
    run at once: they claim disjoint rows. A drainer killed mid-batch leaves its rows to expire
    and come back.
    """
    policy = policy or SyncPolicy()
    size = batch_size or default_batch_size(client)
    result = StreamDrainResult()
    started = time.monotonic()
    try:
        while True:
            if max_batches is not None and result.batches >= max_batches:
                result.stopped = "max_batches"
                break
            if should_stop is not None and should_stop():
                result.stopped = "stop_requested"
                break
            released = stream_leases_release(shop=shop, policy=policy.retry, now=now)
            result.leases_released += released.released + released.failed
            claim = stream_rows_claim(limit=size, lease=policy.lease, shop=shop, now=now)
            if not claim.rows:
                break
            result.batches += 1
            result.claimed += len(claim.rows)
            try:
                outcomes, refused = _send(client, claim.rows)
            except Exception as exc:
                # Settle what we hold as transient before the error propagates, instead of
                # leaving the rows to wait for their lease.
                error = f"the sync worker failed while sending: {exc!r}"
                outcomes = [
                    RowOutcome(r.id, r.product_id, r.attempts, ok=False, error=error) for r in claim.rows
                ]
                stream_rows_settle(outcomes=outcomes, shop=shop, policy=policy.retry, now=now)
                raise
            failpoint("sync.batch_sent")  # the shop has the batch; the stream does not know yet
            settled = stream_rows_settle(outcomes=outcomes, shop=shop, policy=policy.retry, now=now)
            _settled_count(result, settled)
            if refused:
                result.stopped, result.error = "shop_refused", refused
                shop_refused_notify(shop=shop, error=refused, what=_("sending updates"))
                break
    finally:
        result.seconds = round(time.monotonic() - started, 3)
    return result
