"""Selling price rules: which margin applies and how the net price sent to the shop is rounded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}


@dataclass(frozen=True, slots=True)
class PriceRounding:
    """Round to a multiple of ``step`` (0.01 = cents) with ``mode`` half_up, up or down."""

    step: Decimal = Decimal("0.01")
    mode: str = "half_up"

    def __post_init__(self) -> None:
        if self.step <= 0:
            raise ValueError("the rounding step must be positive")
        if self.mode not in ROUNDING_MODES:
            raise ValueError(f"unknown rounding mode {self.mode!r}; use one of {', '.join(ROUNDING_MODES)}")

    def apply(self, value: Decimal, *, mode: str | None = None) -> Decimal:
        steps = (value / self.step).to_integral_value(rounding=ROUNDING_MODES[mode or self.mode])
        return (steps * self.step).quantize(self.step if self.step < 1 else Decimal("1"))


def margin_resolve(
    *,
    product_margin: Decimal | None,
    category_margin: Decimal | None,
    supplier_margin: Decimal | None,
    default_margin: Decimal,
) -> Decimal:
    """The product's margin, else its category's, else the supplier's, else the global default."""
    for margin in (product_margin, category_margin, supplier_margin):
        if margin is not None:
            return margin
    return default_margin


def category_margins_inherit(
    *, parents: Mapping[int, int | None], margins: Mapping[int, Decimal | None]
) -> dict[int, Decimal | None]:
    """Each category's effective margin: its own, else the nearest ancestor's.

    A margin on "Grandes Eletrodomésticos" applies to every subcategory that sets none.
    """
    effective: dict[int, Decimal | None] = {}
    for category_id in parents:
        seen: set[int] = set()
        node: int | None = category_id
        value: Decimal | None = None
        while node is not None and node not in seen:
            seen.add(node)
            if margins.get(node) is not None:
                value = margins[node]
                break
            node = parents.get(node)
        effective[category_id] = value
    return effective


def price_compute(*, cost: Decimal, margin: Decimal, rounding: PriceRounding) -> Decimal:
    """Net selling price: cost x (1 + margin), rounded, never below cost."""
    price = rounding.apply(cost * (Decimal(1) + margin))
    if price < cost:
        price = rounding.apply(cost, mode="up")
    return price
