"""The price-jump guard: which new shop prices need an operator before they are sent.

A new price is held when

* it is more than ``limits.max_change`` above or below the price the shop was last sent
  (``last_price``), or
* it is below the floor: landed cost x (1 + ``limits.min_margin``).

A first price (the shop was never sent one) has nothing to jump from: it is checked against the
floor and against the product's other offers: the median of their landed costs, priced at the
category's typical margin, is what the market says; a first price further than ``max_change``
from it is held.

An approved price passes: the operator has seen exactly that price for that offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from statistics import median

from catalog.policies.snapshot import ProductState

JUMP = "jump"
FLOOR = "floor"
FIRST_VS_OFFERS = "first_vs_offers"


@dataclass(frozen=True, slots=True)
class GuardLimits:
    max_change: Decimal  # 0.40 = ±40 %
    min_margin: Decimal  # 0.05 = the price must be at least landed cost x 1.05


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    held: bool
    reasons: tuple[str, ...] = ()
    change: Decimal | None = None  # relative to the last price; None for a first price


def price_guard(
    *,
    new_price: Decimal,
    landed_cost: Decimal,
    last_price: Decimal | None,
    limits: GuardLimits,
    other_costs: Sequence[Decimal] = (),
    typical_margin: Decimal | None = None,
    approved_price: Decimal | None = None,
) -> GuardVerdict:
    """Whether ``new_price`` must wait for approval, and why."""
    change = None if not last_price else new_price / last_price - 1
    if approved_price is not None and new_price == approved_price:
        return GuardVerdict(False, (), change)
    if last_price is not None and new_price == last_price:
        return GuardVerdict(False, (), Decimal(0))
    reasons: list[str] = []
    if change is not None and abs(change) > limits.max_change:
        reasons.append(JUMP)
    if new_price < landed_cost * (1 + limits.min_margin):
        reasons.append(FLOOR)
    if last_price is None and other_costs and typical_margin is not None:
        reference = Decimal(median(other_costs)) * (1 + typical_margin)
        if reference > 0 and abs(new_price / reference - 1) > limits.max_change:
            reasons.append(FIRST_VS_OFFERS)
    return GuardVerdict(bool(reasons), tuple(reasons), change)


def state_while_held(*, proposed: ProductState, last_price: Decimal | None) -> ProductState:
    """What the shop is told while ``proposed``'s price waits for approval.

    The shop keeps the price it was last sent; stock and active flag follow the new election,
    so a stock-out is never held back. When the old price is below the new landed cost the
    product would sell at a loss: its stock is sent as 0 until the new price is approved.
    A first price has no old price to keep: the product is not sold until approval.
    """
    if last_price is None or not proposed.has_offer:
        return ProductState(is_enabled=proposed.is_enabled, is_eol=proposed.is_eol)
    loss = proposed.unit_cost is not None and last_price < proposed.unit_cost
    return replace(proposed, unit_price_sent=last_price, stock_sent=0 if loss else proposed.stock_sent)
