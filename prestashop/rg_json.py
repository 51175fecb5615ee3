"""The r_genesys contract's JSON bodies (docs/r_genesys.md): pure builders and parsers.

Money travels as decimal strings with 6 places ("8.403361"), never as JSON floats; language-keyed
texts use the shop's language ids as object keys ("1", "2").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from prestashop.errors import ShopResponseError
from prestashop.fields import PreparedProduct, format_decimal
from prestashop.types import (
    ProductUpdate,
    ShopCategory,
    ShopLanguage,
    ShopManufacturer,
    ShopProductRef,
    ShopProductState,
    UpdateResult,
)

CONTRACT_VERSION = 1
CONTRACT_HEADER = "X-Genesys-Contract"
KEY_HEADER = "X-Genesys-Key"
SHOP_HEADER = "X-Genesys-Shop"
MAX_BATCH_SIZE = 500
MAX_PAGE_SIZE = 1000
ENDPOINTS = (
    "status",
    "getlanguages",
    "getcategories",
    "getbrands",
    "findproducts",
    "getproduct",
    "createproducts",
    "updateproducts",
)


def _texts(texts: Mapping[int, str]) -> dict[str, str]:
    return {str(language_id): text for language_id, text in sorted(texts.items())}


def product_item(product: PreparedProduct, *, tax_rules_group_id: int) -> dict[str, Any]:
    """One ``createproducts`` item."""
    return {
        "key": product.idempotency_key,
        "reference": product.reference,
        "ean13": product.ean13,
        "price": product.price,
        "weight": product.weight,
        "id_category_default": product.id_category_default,
        "category_ids": list(product.category_ids),
        "id_manufacturer": product.id_manufacturer,
        "id_tax_rules_group": tax_rules_group_id,
        "name": _texts(product.names),
        "link_rewrite": _texts(product.link_rewrites),
        "description": _texts(product.descriptions),
        "description_short": _texts(product.short_descriptions),
    }


def build_create_request(products: Sequence[PreparedProduct], *, tax_rules_group_id: int) -> dict[str, Any]:
    return {"items": [product_item(product, tax_rules_group_id=tax_rules_group_id) for product in products]}


def update_item(update: ProductUpdate) -> dict[str, Any]:
    """One ``updateproducts`` item: only the values that change."""
    item: dict[str, Any] = {"id_product": update.id_product}
    if update.price is not None:
        item["price"] = format_decimal(update.price, field_name="price")
    if update.quantity is not None:
        item["quantity"] = update.quantity
    if update.active is not None:
        item["active"] = update.active
    return item


def build_update_request(updates: Sequence[ProductUpdate]) -> dict[str, Any]:
    return {"items": [update_item(update) for update in updates]}


# --- parsing -----------------------------------------------------------------------------------


def _list(payload: Any, key: str) -> list[Any]:
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, list):
        raise ShopResponseError(f"r_genesys answer has no {key!r} list")
    return value


def _int(item: Mapping[str, Any], key: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ShopResponseError(f"r_genesys answer: {key!r} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise ShopResponseError(f"r_genesys answer: {key!r} is not an integer") from None


def _names(value: Any) -> dict[int, str]:
    if not isinstance(value, dict):
        return {}
    return {int(k): str(v) for k, v in value.items() if str(k).isdigit()}


def next_offset(payload: Any) -> int | None:
    value = payload.get("next_offset") if isinstance(payload, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_languages(payload: Any) -> list[ShopLanguage]:
    return [
        ShopLanguage(
            id=_int(item, "id"),
            iso_code=str(item.get("iso_code", "")),
            name=str(item.get("name", "")),
            active=bool(item.get("active", True)),
        )
        for item in _list(payload, "languages")
    ]


def parse_categories(payload: Any) -> list[ShopCategory]:
    categories = []
    for item in _list(payload, "categories"):
        names = _names(item.get("name"))
        categories.append(
            ShopCategory(
                id=_int(item, "id"),
                parent_id=_int(item, "id_parent"),
                name=names[min(names)] if names else "",
                depth=_int(item, "level_depth"),
                active=bool(item.get("active")),
                is_root=False,  # the module never lists Root or the shop's home
                names=names,
            )
        )
    return categories


def parse_brands(payload: Any) -> list[ShopManufacturer]:
    return [
        ShopManufacturer(id=_int(item, "id"), name=str(item.get("name", "")), active=bool(item.get("active")))
        for item in _list(payload, "brands")
    ]


def parse_products(payload: Any) -> list[ShopProductRef]:
    return [
        ShopProductRef(
            id=_int(item, "id_product"),
            reference=str(item.get("reference") or ""),
            ean13=str(item.get("ean13") or ""),
            active=bool(item.get("active")),
        )
        for item in _list(payload, "products")
    ]


def parse_state(payload: Any) -> ShopProductState:
    item = payload.get("product") if isinstance(payload, dict) else None
    if not isinstance(item, dict):
        raise ShopResponseError("r_genesys answer has no 'product' object")
    try:
        price = Decimal(str(item.get("price")))
    except InvalidOperation:
        raise ShopResponseError("r_genesys answer: 'price' is not a decimal string") from None
    return ShopProductState(
        id=_int(item, "id_product"),
        price=price,
        quantity=_int(item, "quantity"),
        active=bool(item.get("active")),
        reference=str(item.get("reference") or ""),
    )


@dataclass(frozen=True, slots=True)
class ItemError:
    code: str
    message: str
    permanent: bool


def item_error(item: Mapping[str, Any]) -> ItemError:
    raw = item.get("error")
    error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    return ItemError(
        code=str(error.get("code") or "unknown"),
        message=str(error.get("message") or "no message"),
        permanent=bool(error.get("permanent", True)),
    )


def parse_update_results(payload: Any, updates: Sequence[ProductUpdate]) -> list[UpdateResult]:
    """Per-item results, in request order; the module must answer one result per item."""
    items = _list(payload, "results")
    if len(items) != len(updates):
        raise ShopResponseError(f"r_genesys answered {len(items)} results for {len(updates)} items")
    results = []
    for update, item in zip(updates, items, strict=True):
        if not isinstance(item, dict) or _int(item, "id_product") != update.id_product:
            raise ShopResponseError("r_genesys results are not in the order of the request")
        if item.get("ok") is True:
            applied = item.get("applied")
            fields = tuple(applied) if isinstance(applied, list) else update.fields
            results.append(UpdateResult(id_product=update.id_product, ok=True, applied=fields))
            continue
        error = item_error(item)
        applied = item.get("applied")
        results.append(
            UpdateResult(
                id_product=update.id_product,
                ok=False,
                applied=tuple(applied) if isinstance(applied, list) else (),
                error=f"{error.message} (r_genesys {error.code})",
                code=error.code,
                status=200,
                permanent=error.permanent,
            )
        )
    return results


@dataclass(frozen=True, slots=True)
class CreateResult:
    key: str
    id_product: int | None
    created: bool
    error: ItemError | None


def parse_create_results(payload: Any, keys: Sequence[str]) -> list[CreateResult]:
    items = _list(payload, "results")
    if len(items) != len(keys):
        raise ShopResponseError(f"r_genesys answered {len(items)} results for {len(keys)} items")
    results = []
    for key, item in zip(keys, items, strict=True):
        if not isinstance(item, dict) or item.get("key") != key:
            raise ShopResponseError("r_genesys results are not in the order of the request")
        if item.get("ok") is True:
            results.append(CreateResult(key, _int(item, "id_product"), bool(item.get("created", True)), None))
        else:
            results.append(CreateResult(key, None, False, item_error(item)))
    return results


def error_body(payload: Any) -> tuple[str, str]:
    """``(code, message)`` of an error answer; empty strings when the body is not one."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")
