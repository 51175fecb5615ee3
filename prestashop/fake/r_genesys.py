"""The fake r_genesys module: docs/r_genesys.md implemented over the same state as ``/api/``."""

from __future__ import annotations

import hmac
import json
from typing import Any

from prestashop import rg_json
from prestashop.fake import catalog
from prestashop.fake.schema import PRODUCTS
from prestashop.fake.store import FakeStore, new_doc, scalar_expr
from prestashop.fake.wire import FakeRequest, FakeResponse, FakeShopSettings
from prestashop.fields import link_rewrite

MODULE_VERSION = "1.0.0"
MAX_BODY_BYTES = 1024 * 1024
MAX_FOUND = 100
GET_ENDPOINTS = frozenset(
    {"status", "getlanguages", "getcategories", "getbrands", "findproducts", "getproduct"}
)


class RgError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ItemRefused(Exception):
    """One batch item refused; the others go on."""

    def __init__(self, code: str, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.permanent = permanent

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "permanent": self.permanent}


def _json(status: int, payload: Any) -> FakeResponse:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return FakeResponse(status, body, "application/json; charset=utf-8", {rg_json.CONTRACT_HEADER: "1"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class RGenesysApp:
    def __init__(self, store: FakeStore, settings: FakeShopSettings) -> None:
        self.store = store
        self.settings = settings

    def handle(self, request: FakeRequest) -> FakeResponse:
        try:
            return self._handle(request)
        except RgError as exc:
            response = _json(exc.status, {"error": {"code": exc.code, "message": exc.message}})
            if exc.status == 405:
                allowed = "GET" if request.path.rstrip("/").rsplit("/", 1)[-1] in GET_ENDPOINTS else "POST"
                response.headers["Allow"] = allowed
            return response

    def _handle(self, request: FakeRequest) -> FakeResponse:
        key = request.header(rg_json.KEY_HEADER) or ""
        if not key or not any(
            hmac.compare_digest(key.encode(), known.encode()) for known in self.settings.keys
        ):
            raise RgError(401, "unauthorized", f"missing or wrong {rg_json.KEY_HEADER} header")
        shop_header = request.header(rg_json.SHOP_HEADER)
        if shop_header is None:
            shop = self.settings.default_shop
        elif shop_header.isdigit() and int(shop_header) in self.settings.shop_ids:
            shop = int(shop_header)
        else:
            raise RgError(400, "unknown_shop", f"shop {shop_header!r} does not exist")
        action = request.path.split("/r_genesys", 1)[1].strip("/")
        if action not in rg_json.ENDPOINTS:
            raise RgError(404, "unknown_endpoint", f"no endpoint {action!r}")
        expected = "GET" if action in GET_ENDPOINTS else "POST"
        if request.method != expected:
            raise RgError(405, "method_not_allowed", f"{action} takes {expected}")
        if expected == "GET":
            return _json(200, getattr(self, f"_{action}")(request, shop))
        items = self._items(request)
        return _json(200, getattr(self, f"_{action}")(items, shop))

    def _items(self, request: FakeRequest) -> list[Any]:
        if "application/json" not in (request.header("Content-Type") or ""):
            raise RgError(415, "unsupported_media_type", "send Content-Type: application/json")
        if len(request.body) > MAX_BODY_BYTES:
            raise RgError(413, "body_too_large", f"bodies are limited to {MAX_BODY_BYTES} bytes")
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RgError(400, "invalid_json", f"body is not JSON: {exc}") from None
        items = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise RgError(400, "invalid_request", 'body must be {"items": [...]} with at least one item')
        if len(items) > self.settings.max_batch_size:
            raise RgError(413, "batch_too_large", f"at most {self.settings.max_batch_size} items per request")
        return items

    # --- reads -------------------------------------------------------------------------------

    def _status(self, request: FakeRequest, shop: int) -> dict[str, Any]:
        return {
            "module": "r_genesys",
            "module_version": MODULE_VERSION,
            "contract": rg_json.CONTRACT_VERSION,
            "ps_version": self.settings.version,
            "id_shop": shop,
            "max_batch_size": self.settings.max_batch_size,
            "endpoints": list(rg_json.ENDPOINTS),
        }

    def _getlanguages(self, request: FakeRequest, shop: int) -> dict[str, Any]:
        docs = self.store.get_many("languages", self.store.select_ids("languages"))
        return {
            "languages": [
                {"id": int(d["f"]["id"]), "iso_code": d["f"]["iso_code"], "name": d["f"]["name"],
                 "active": d["f"]["active"] == "1"}
                for d in docs
            ]
        }  # fmt: skip

    @staticmethod
    def _page(request: FakeRequest) -> tuple[int, int]:
        try:
            offset = int(request.query.get("offset", "0"))
            limit = int(request.query.get("limit", "500"))
        except ValueError:
            raise RgError(400, "invalid_request", "offset and limit must be integers") from None
        if offset < 0 or not 1 <= limit <= rg_json.MAX_PAGE_SIZE:
            raise RgError(400, "invalid_request", f"offset >= 0 and 1 <= limit <= {rg_json.MAX_PAGE_SIZE}")
        return offset, limit

    def _getcategories(self, request: FakeRequest, shop: int) -> dict[str, Any]:
        offset, limit = self._page(request)
        # Root (no parent) and the shop's home ("Todos os produtos") are never offered.
        offered = f"{scalar_expr('id_parent')} != '0' AND {scalar_expr('is_root_category')} != '1'"
        where: list[tuple[str, list[Any]]] = [(offered, [])]
        ids = self.store.select_ids("categories", where=where, limit=limit + 1, offset=offset)
        docs = self.store.get_many("categories", ids[:limit])
        categories = [
            {
                "id": int(d["f"]["id"]),
                "id_parent": int(d["f"]["id_parent"]),
                "level_depth": int(d["f"]["level_depth"]),
                "active": d["f"]["active"] == "1",
                "name": d["l"].get("name", {}),
            }
            for d in docs
        ]
        return {"categories": categories, "next_offset": offset + limit if len(ids) > limit else None}

    def _getbrands(self, request: FakeRequest, shop: int) -> dict[str, Any]:
        offset, limit = self._page(request)
        ids = self.store.select_ids("manufacturers", limit=limit + 1, offset=offset)
        docs = self.store.get_many("manufacturers", ids[:limit])
        brands = [
            {"id": int(d["f"]["id"]), "name": d["f"]["name"], "active": d["f"]["active"] == "1"} for d in docs
        ]
        return {"brands": brands, "next_offset": offset + limit if len(ids) > limit else None}

    def _findproducts(self, request: FakeRequest, shop: int) -> dict[str, Any]:
        where = []
        for name in ("reference", "ean13"):
            value = request.query.get(name)
            if value is not None:
                if not value:
                    raise RgError(400, "invalid_request", f"{name} is empty")
                where.append((f"lower({scalar_expr(name)}) = lower(?)", [value]))
        if not where:
            raise RgError(400, "invalid_request", "give reference, ean13 or both")
        ids = self.store.select_ids("products", where=where, limit=MAX_FOUND)
        products = [
            {"id_product": int(d["f"]["id"]), "reference": d["f"].get("reference") or "",
             "ean13": d["f"].get("ean13") or "", "active": d["f"].get("active") == "1"}
            for d in self.store.get_many("products", ids)
        ]  # fmt: skip
        return {"products": products}

    def _getproduct(self, request: FakeRequest, shop: int) -> dict[str, Any]:
        value = request.query.get("id_product", "")
        doc = self.store.get("products", int(value)) if value.isdigit() else None
        if doc is None:
            raise RgError(404, "product_not_found", f"no product {value!r}")
        return {
            "product": {
                "id_product": int(doc["f"]["id"]),
                "reference": doc["f"].get("reference") or "",
                "price": catalog.six_places(doc["f"].get("price") or "0"),
                "quantity": catalog.quantity_in_shop(self.store, int(doc["f"]["id"]), shop),
                "active": doc["f"].get("active") == "1",
            }
        }

    # --- writes ------------------------------------------------------------------------------

    def _createproducts(self, items: list[Any], shop: int) -> dict[str, Any]:
        results = []
        for item in items:
            key = item.get("key") if isinstance(item, dict) else None
            try:
                with self.store.transaction():
                    id_product, created = self._create(item, shop)
                results.append({"key": key, "ok": True, "id_product": id_product, "created": created})
            except ItemRefused as exc:
                results.append({"key": key, "ok": False, "error": exc.as_json()})
        return {"results": results}

    def _texts(self, item: dict[str, Any], name: str, languages: list[int]) -> dict[str, str]:
        value = item.get(name) or {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ItemRefused("invalid_field", f"{name} must map language ids to strings")
        spec = PRODUCTS.require(name)
        for text in value.values():
            if not spec.is_valid(text):
                raise ItemRefused("invalid_field", f"{name} {text[:40]!r} is not valid")
        fallback = next((value[str(lang)] for lang in languages if value.get(str(lang))), "")
        return {str(lang): value.get(str(lang)) or fallback for lang in languages}

    def _create(self, item: Any, shop: int) -> tuple[int, bool]:
        if not isinstance(item, dict):
            raise ItemRefused("invalid_request", "each item must be an object")
        key = item.get("key")
        if not isinstance(key, str) or not 0 < len(key) <= 128:
            raise ItemRefused("invalid_field", "key must be a string of 1 to 128 characters")
        existing = self.store.idempotency_get(key)
        if existing is not None and self.store.get("products", existing) is not None:
            return existing, False
        fields: dict[str, str | None] = {}
        for name in ("reference", "ean13", "price", "weight"):
            value = item.get(name)
            if value is None and name in ("ean13", "weight"):
                continue
            spec = PRODUCTS.require(name)
            if (
                not isinstance(value, str)
                or not spec.is_valid(value)
                or (name in ("reference", "price") and not value)
            ):
                raise ItemRefused("invalid_field", f"{name} {value!r} is not valid")
            fields[name] = catalog.six_places(value) if name in ("price", "weight") else value
        category_ids = item.get("category_ids") or []
        default_category = item.get("id_category_default")
        if (
            not _is_int(default_category)
            or not isinstance(category_ids, list)
            or not all(map(_is_int, category_ids))
        ):
            raise ItemRefused("invalid_field", "id_category_default and category_ids must be integers")
        for category in dict.fromkeys([default_category, *category_ids]):
            if not catalog.category_exists(self.store, category):
                raise ItemRefused("category_not_found", f"category {category} does not exist")
        manufacturer = item.get("id_manufacturer")
        if manufacturer is not None and (
            not _is_int(manufacturer) or self.store.get("manufacturers", manufacturer) is None
        ):
            raise ItemRefused("manufacturer_not_found", f"manufacturer {manufacturer} does not exist")
        tax_group = item.get("id_tax_rules_group", 1)
        if not _is_int(tax_group) or tax_group < 0:
            raise ItemRefused("invalid_field", "id_tax_rules_group must be a non-negative integer")
        languages = self.store.select_ids("languages")
        names = self._texts(item, "name", languages)
        if not any(names.values()):
            raise ItemRefused("invalid_field", "name is empty in every language")
        rewrites = self._texts(item, "link_rewrite", languages)
        doc = new_doc()
        doc["f"].update(
            {
                **fields,
                "id_category_default": str(default_category),
                "id_manufacturer": str(manufacturer) if manufacturer is not None else "0",
                "id_tax_rules_group": str(tax_group),
                "id_shop_default": str(shop),
                "active": "0",
                "state": "1",
                "product_type": "standard",
                "visibility": "both",
                "available_for_order": "1",
                "show_price": "1",
                "minimal_quantity": "1",
                "condition": "new",
                "date_add": catalog.now(),
                "date_upd": catalog.now(),
            }
        )
        doc["l"] = {
            "name": names,
            "link_rewrite": {lang: rewrites[lang] or link_rewrite(names[lang]) for lang in names},
            "description": self._texts(item, "description", languages),
            "description_short": self._texts(item, "description_short", languages),
        }
        doc["a"]["categories"] = [{"id": str(c)} for c in dict.fromkeys([default_category, *category_ids])]
        id_product = self.store.insert("products", doc)
        catalog.create_stock_rows(self.store, id_product, self.settings.shop_ids)
        self.store.idempotency_set(key, id_product)
        return id_product, True

    def _updateproducts(self, items: list[Any], shop: int) -> dict[str, Any]:
        results = []
        for item in items:
            id_product = item.get("id_product") if isinstance(item, dict) else None
            try:
                with self.store.transaction():
                    applied = self._update(item, shop)
                results.append({"id_product": id_product, "ok": True, "applied": applied})
            except ItemRefused as exc:
                results.append({"id_product": id_product, "ok": False, "error": exc.as_json()})
        return {"results": results}

    def _update(self, item: Any, shop: int) -> list[str]:
        if not isinstance(item, dict) or not _is_int(item.get("id_product")) or item["id_product"] <= 0:
            raise ItemRefused("invalid_field", "id_product must be a positive integer")
        doc = self.store.get("products", item["id_product"])
        if doc is None:
            raise ItemRefused("product_not_found", f"product {item['id_product']} does not exist")
        price, quantity, active = item.get("price"), item.get("quantity"), item.get("active")
        if price is None and quantity is None and active is None:
            raise ItemRefused("nothing_to_update", "give price, quantity or active")
        price_spec = PRODUCTS.require("price")
        if price is not None and (not isinstance(price, str) or not price or not price_spec.is_valid(price)):
            raise ItemRefused("invalid_field", f"price {price!r} is not a decimal string")
        if quantity is not None and (not _is_int(quantity) or quantity < 0):
            raise ItemRefused("invalid_field", f"quantity {quantity!r} is not a non-negative integer")
        if active is not None and not isinstance(active, bool):
            raise ItemRefused("invalid_field", f"active {active!r} is not a boolean")
        applied = []
        if quantity is not None:
            catalog.set_quantity(self.store, item["id_product"], shop, quantity)
            applied.append("quantity")
        if price is not None:
            doc["f"]["price"] = catalog.six_places(price)
            applied.append("price")
        if active is not None:
            doc["f"]["active"] = "1" if active else "0"
            applied.append("active")
        if price is not None or active is not None:
            doc["f"]["date_upd"] = catalog.now()
            self.store.save("products", item["id_product"], doc)
        return [name for name in ("price", "quantity", "active") if name in applied]
