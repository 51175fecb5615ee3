"""What the fake shop does around products, whichever API wrote them.

Creating a product creates its ``stock_availables`` rows (one per shop, ``id_product_attribute``
0), as ``StockAvailable::setQuantity`` does in PrestaShop; the product's ``quantity``,
``manufacturer_name`` and ``position_in_category`` are derived on read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from prestashop.fake.store import Doc, FakeStore, new_doc, scalar_expr
from prestashop.fields import SIX_PLACES


def now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def six_places(value: str) -> str:
    """PrestaShop stores prices and weights as DECIMAL(20,6) and hands them out that way."""
    try:
        return f"{Decimal(value).quantize(SIX_PLACES):f}"
    except InvalidOperation:
        return value


def stock_rows(store: FakeStore, id_product: int) -> list[Doc]:
    ids = store.select_ids(
        "stock_availables", where=[(f"{scalar_expr('id_product')} = ?", [str(id_product)])]
    )
    return store.get_many("stock_availables", ids)


def create_stock_rows(store: FakeStore, id_product: int, shop_ids: tuple[int, ...]) -> None:
    for id_shop in shop_ids:
        doc = new_doc()
        doc["f"].update(
            {
                "id_product": str(id_product),
                "id_product_attribute": "0",
                "id_shop": str(id_shop),
                "id_shop_group": "0",
                "quantity": "0",
                "depends_on_stock": "0",
                "out_of_stock": "2",
                "location": "",
            }
        )
        store.insert("stock_availables", doc)


def delete_stock_rows(store: FakeStore, id_product: int) -> None:
    for row in stock_rows(store, id_product):
        store.delete("stock_availables", int(row["f"]["id"]))


def quantity_in_shop(store: FakeStore, id_product: int, id_shop: int) -> int:
    for row in stock_rows(store, id_product):
        if row["f"].get("id_product_attribute") == "0" and row["f"].get("id_shop") == str(id_shop):
            return int(row["f"].get("quantity") or 0)
    return 0


def set_quantity(store: FakeStore, id_product: int, id_shop: int, quantity: int) -> None:
    """Set the product-level stock of a shop, creating the row if the shop has none yet."""
    for row in stock_rows(store, id_product):
        if row["f"].get("id_product_attribute") == "0" and row["f"].get("id_shop") == str(id_shop):
            row["f"]["quantity"] = str(quantity)
            store.save("stock_availables", int(row["f"]["id"]), row)
            return
    create_stock_rows(store, id_product, (id_shop,))
    set_quantity(store, id_product, id_shop, quantity)


def manufacturer_name(store: FakeStore, id_manufacturer: str | None) -> str:
    if not id_manufacturer or not id_manufacturer.isdigit():
        return ""
    doc = store.get("manufacturers", int(id_manufacturer))
    return (doc["f"].get("name") or "") if doc else ""


def position_in_category(store: FakeStore, doc: Doc) -> str:
    """0-based rank of the product among the products of its default category."""
    category = doc["f"].get("id_category_default")
    if not category:
        return "0"
    expr = scalar_expr("id_category_default")
    below = store.count("products", where=[(f"{expr} = ? AND id < ?", [category, int(doc["f"]["id"])])])
    return str(below)


def product_derived(store: FakeStore, doc: Doc, *, id_shop: int) -> dict[str, str]:
    """Read-only values PrestaShop computes for a product's GET output."""
    return {
        "manufacturer_name": manufacturer_name(store, doc["f"].get("id_manufacturer")),
        "quantity": str(quantity_in_shop(store, int(doc["f"]["id"]), id_shop)),
        "position_in_category": position_in_category(store, doc),
        "type": "simple",
    }


def category_exists(store: FakeStore, id_category: int) -> bool:
    return store.get("categories", id_category) is not None


@dataclass(frozen=True, slots=True)
class FakeProduct:
    """A product as a test wants to see it; ``quantity`` is the stock of the default shop."""

    id: int
    reference: str
    ean13: str
    price: Decimal | None
    active: bool
    state: str
    quantity: int
    quantities: dict[int, int]
    id_category_default: int | None
    category_ids: tuple[int, ...]
    id_manufacturer: int | None
    names: dict[int, str]
    link_rewrites: dict[int, str]
    descriptions: dict[int, str]
    short_descriptions: dict[int, str]
    fields: dict[str, Any] = field(repr=False)


def _optional_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def _texts(doc: Doc, name: str) -> dict[int, str]:
    return {int(k): v for k, v in doc["l"].get(name, {}).items()}


def product_view(store: FakeStore, doc: Doc, *, default_shop: int) -> FakeProduct:
    fields = doc["f"]
    quantities: dict[int, int] = {}
    for row in stock_rows(store, int(fields["id"])):
        if row["f"].get("id_product_attribute") == "0":
            quantities[int(row["f"].get("id_shop") or 0)] = int(row["f"].get("quantity") or 0)
    price = fields.get("price")
    return FakeProduct(
        id=int(fields["id"]),
        reference=fields.get("reference") or "",
        ean13=fields.get("ean13") or "",
        price=Decimal(price) if price not in (None, "") else None,
        active=fields.get("active") == "1",
        state=fields.get("state") or "",
        quantity=quantities.get(default_shop, 0),
        quantities=quantities,
        id_category_default=_optional_int(fields.get("id_category_default")),
        category_ids=tuple(int(item["id"]) for item in doc["a"].get("categories", [])),
        id_manufacturer=_optional_int(fields.get("id_manufacturer")),
        names=_texts(doc, "name"),
        link_rewrites=_texts(doc, "link_rewrite"),
        descriptions=_texts(doc, "description"),
        short_descriptions=_texts(doc, "description_short"),
        fields=dict(fields),
    )
