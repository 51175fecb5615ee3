"""What the shop should show for a product, and what a change between two states means."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from catalog.models.update_stream import CatalogUpdateStream

Priority = CatalogUpdateStream.Priority

# The fields whose change must reach the shop (issue #4): supplier, price sent, stock sent, flags.
WATCHED_FIELDS = ("supplier_id", "unit_price_sent", "stock_sent", "is_enabled", "is_eol")


@dataclass(frozen=True, slots=True)
class ProductState:
    """The product as the shop should see it."""

    is_enabled: bool
    is_eol: bool
    supplier_id: int | None = None
    supplier_item_id: int | None = None
    unit_cost: Decimal | None = None
    margin_applied: Decimal | None = None
    unit_price_sent: Decimal | None = None
    stock_sent: int = 0

    @property
    def has_offer(self) -> bool:
        return self.supplier_id is not None

    @property
    def shop_active(self) -> bool:
        """Active in the shop: enabled, not end-of-life, and sold by someone (even if out of stock)."""
        return self.is_enabled and not self.is_eol and self.has_offer


def state_changes(old: ProductState | None, new: ProductState) -> tuple[str, ...]:
    """Names of the watched fields that differ; a product seen for the first time changed all."""
    if old is None:
        return WATCHED_FIELDS
    return tuple(name for name in WATCHED_FIELDS if getattr(old, name) != getattr(new, name))


def stream_priority(old: ProductState | None, new: ProductState) -> int:
    """Back in stock first (sales are waiting), then sold out (avoid selling air), then prices."""
    old_stock = old.stock_sent if old is not None else 0
    old_price = old.unit_price_sent if old is not None else None
    if old_stock <= 0 < new.stock_sent:
        return Priority.BACK_IN_STOCK
    if old_stock > 0 >= new.stock_sent:
        return Priority.SOLD_OUT
    if old_price != new.unit_price_sent:
        return Priority.PRICE
    return Priority.OTHER
