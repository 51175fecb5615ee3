"""What a stream row tells the shop about a product (``ShopState``), shared by catalog and prestashop.

The catalog builds it from a product and its state after a recompute; the stream stores it as
JSON (``to_json``: plain JSON types, money as strings, never floats); the sync worker reads it
back (``from_json``), including rows written before this type existed (the same layout).

    {"product": {"id", "gtin", "partnumber", "name", "margin", "is_enabled", "is_eol", "id_ecommerce"},
     "active_offer": {"id_supplier", "id_supplier_item", "unit_cost", "unit_price_sent", "stock_sent"}
                     or null,
     "shop": {"active", "price", "quantity"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from catalog.policies.snapshot import ProductState


@dataclass(frozen=True, slots=True)
class ShopProduct:
    """The product's identity and flags as the stream row carries them (for people and logs)."""

    id: int
    gtin: str | None
    partnumber: str
    name: str
    margin: Decimal | None
    is_enabled: bool
    is_eol: bool
    id_ecommerce: int | None


@dataclass(frozen=True, slots=True)
class ShopOffer:
    """The active offer the price and stock come from."""

    supplier_id: int
    supplier_item_id: int
    unit_cost: Decimal | None
    unit_price_sent: Decimal | None
    stock_sent: int


@dataclass(frozen=True, slots=True)
class ShopState:
    """What the shop should show: active flag, net price (None: keep the shop's), quantity."""

    active: bool
    price: Decimal | None
    quantity: int
    product: ShopProduct | None = None
    offer: ShopOffer | None = None

    @classmethod
    def of(cls, *, product: ShopProduct, state: ProductState) -> ShopState:
        """The shop state of ``product`` in ``state`` (without an offer: no price, inactive)."""
        offer = None
        if state.has_offer and state.supplier_id is not None and state.supplier_item_id is not None:
            offer = ShopOffer(
                supplier_id=state.supplier_id,
                supplier_item_id=state.supplier_item_id,
                unit_cost=state.unit_cost,
                unit_price_sent=state.unit_price_sent,
                stock_sent=state.stock_sent,
            )
        return cls(
            active=state.shop_active,
            price=state.unit_price_sent if state.has_offer else None,
            quantity=state.stock_sent,
            product=product,
            offer=offer,
        )

    def to_json(self) -> dict[str, Any]:
        product = self.product
        offer = self.offer
        return {
            "product": None
            if product is None
            else {
                "id": product.id,
                "gtin": product.gtin,
                "partnumber": product.partnumber,
                "name": product.name,
                "margin": _money(product.margin),
                "is_enabled": product.is_enabled,
                "is_eol": product.is_eol,
                "id_ecommerce": product.id_ecommerce,
            },
            "active_offer": None
            if offer is None
            else {
                "id_supplier": offer.supplier_id,
                "id_supplier_item": offer.supplier_item_id,
                "unit_cost": _money(offer.unit_cost),
                "unit_price_sent": _money(offer.unit_price_sent),
                "stock_sent": offer.stock_sent,
            },
            "shop": {"active": self.active, "price": _money(self.price), "quantity": self.quantity},
        }

    @classmethod
    def from_json(cls, payload: Any) -> ShopState:
        """A stored payload read back; ValueError when it carries no usable shop state.

        Only the shop section is required (rows parked by hand or from older code may lack the
        rest); a product or offer section that cannot be read is left out.
        """
        shop = payload.get("shop") if isinstance(payload, Mapping) else None
        if not isinstance(shop, Mapping) or "active" not in shop:
            raise ValueError("the payload has no shop state")
        try:
            price = _decimal(shop.get("price"))
            quantity = int(shop.get("quantity") or 0)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"the payload's price or quantity is not a number: {exc}") from None
        return cls(
            active=bool(shop["active"]),
            price=price,
            quantity=quantity,
            product=_product_read(payload.get("product")),
            offer=_offer_read(payload.get("active_offer")),
        )


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _product_read(section: Any) -> ShopProduct | None:
    if not isinstance(section, Mapping):
        return None
    try:
        return ShopProduct(
            id=int(section["id"]),
            gtin=section.get("gtin"),
            partnumber=section.get("partnumber") or "",
            name=section.get("name") or "",
            margin=_decimal(section.get("margin")),
            is_enabled=bool(section.get("is_enabled")),
            is_eol=bool(section.get("is_eol")),
            id_ecommerce=None if section.get("id_ecommerce") is None else int(section["id_ecommerce"]),
        )
    except (KeyError, InvalidOperation, TypeError, ValueError):
        return None


def _offer_read(section: Any) -> ShopOffer | None:
    if not isinstance(section, Mapping):
        return None
    try:
        return ShopOffer(
            supplier_id=int(section["id_supplier"]),
            supplier_item_id=int(section["id_supplier_item"]),
            unit_cost=_decimal(section.get("unit_cost")),
            unit_price_sent=_decimal(section.get("unit_price_sent")),
            stock_sent=int(section.get("stock_sent") or 0),
        )
    except (KeyError, InvalidOperation, TypeError, ValueError):
        return None
