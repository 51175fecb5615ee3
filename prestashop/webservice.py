"""``ShopClient`` over PrestaShop's own Webservice (XML at ``{PRESTASHOP_URL}/api/``).

Works with PrestaShop 1.7 to 9: writes use PATCH from 8.0 on and GET → strip → PUT before (read
from the ``PSWS-Version`` header, and learnt again if a shop answers PATCH with 405/23).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import requests
from lxml import etree

from prestashop import ws_xml
from prestashop.config import ShopConfig
from prestashop.errors import (
    ShopAuthError,
    ShopConnectionError,
    ShopError,
    ShopNotFoundError,
    ShopRequestError,
    ShopResponseError,
    ShopTransientError,
    ShopValidationError,
    attempts_note,
    shop_error_for_status,
)
from prestashop.fields import filter_value_is_exact, format_decimal, prepare_product
from prestashop.transport import RETRYABLE_STATUSES, ShopTransport, describe_body, response_attempts
from prestashop.types import (
    ProductDraft,
    ProductUpdate,
    ShopCategory,
    ShopCheck,
    ShopLanguage,
    ShopManufacturer,
    ShopProductRef,
    ShopProductState,
    UpdateResult,
)

logger = logging.getLogger("prestashop.webservice")

T = TypeVar("T")
XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
# 5xx codes PrestaShop raises for a request it will never accept: retrying cannot help.
PERMANENT_SERVER_CODES = frozenset({"127", "134", "135"})
# What Genesys needs from the key; "PUT|PATCH" is satisfied by either.
REQUIRED_PERMISSIONS = {
    "languages": ("GET",),
    "categories": ("GET",),
    "manufacturers": ("GET",),
    "products": ("GET", "POST", "PUT|PATCH"),
    "stock_availables": ("GET", "PUT|PATCH"),
}
PRODUCT_REF_FIELDS = "[id,reference,ean13,active]"
STOCK_FIELDS = "[" + ",".join(ws_xml.STOCK_PUT_FIELDS) + "]"


def version_supports_patch(version: str) -> bool:
    """PATCH exists from PrestaShop 8.0 (PS#27952); 1.7 answers 405, code 23."""
    head = version.split(".", 1)[0]
    return head.isdigit() and int(head) >= 8


def _should_retry(response: requests.Response) -> bool:
    if response.status_code not in RETRYABLE_STATUSES:
        return False
    return not any(code in PERMANENT_SERVER_CODES for code, _ in ws_xml.parse_errors(response.content))


class WebserviceClient:
    backend = "webservice"

    def __init__(self, *, config: ShopConfig) -> None:
        self.config = config
        self.http = ShopTransport.for_shop(
            config=config,
            path="api/",
            auth=(config.api_key, ""),  # the key is the Basic-auth user, the password is empty
            secrets=(config.api_key,),
            should_retry=_should_retry,
        )
        self._lock = threading.Lock()
        self.version: str | None = None
        self._patch: bool | None = None
        self._languages: list[ShopLanguage] | None = None
        self._stock_ids: dict[int, int] = {}

    def __enter__(self) -> WebserviceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # --- HTTP --------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        idempotent: bool = True,
    ) -> etree._Element | None:
        """The parsed XML root; None only for a GET answered 404 with an empty body (a missing id).

        Any other 404 is an error: a write must never pass for done because a route was missing.
        """
        response = self.http.request(
            method,
            path,
            params=params,
            data=body,
            headers=XML_HEADERS if body else None,
            idempotent=idempotent,
        )
        version = response.headers.get("PSWS-Version")
        if version and version != self.version:
            with self._lock:
                self.version = version
                self._patch = version_supports_patch(version)
        label = f"{method} /api/{path}"
        if response.status_code == 404 and method == "GET" and not response.content.strip():
            return None
        if response.status_code >= 400:
            raise self._error(response, label)
        return ws_xml.parse_xml(
            response.content, status=response.status_code, label=label, scrub=self.http.scrub
        )

    def _error(self, response: requests.Response, label: str) -> ShopError:
        status = response.status_code
        tries = attempts_note(response_attempts(response))
        errors = ws_xml.parse_errors(response.content)
        if errors:
            detail = "; ".join(f"PrestaShop error {code}: {message}" for code, message in errors)
            code = errors[0][0]
        elif status == 401 and "WWW-Authenticate" in response.headers:
            detail, code = (
                "no API key reached the shop (a proxy or CGI setup may strip the Authorization header)",
                "",
            )
        else:
            detail, code = describe_body(response.content), ""
        message = self.http.scrub(f"{label}: HTTP {status}{tries}, {detail}"[:600])
        return shop_error_for_status(
            message, status=status, code=code, permanent_codes=PERMANENT_SERVER_CODES
        )

    def _pages(
        self, resource: str, params: dict[str, str], parse: Callable[[etree._Element], list[T]]
    ) -> list[T]:
        """Every row of a list: the Webservice returns no total, so page until a short page."""
        items: list[T] = []
        offset, size = 0, self.config.page_size
        while True:
            root = self._request(
                "GET", resource, params={**params, "sort": "[id_ASC]", "limit": f"{offset},{size}"}
            )
            page = parse(root) if root is not None else []
            items.extend(page)
            if len(page) < size:
                return items
            offset += size

    def _ensure_version(self) -> bool:
        """Whether to PATCH; asks the API root once when no response has told the version yet."""
        if self._patch is None:
            self._request("GET", "")
        if self._patch is None:
            raise ShopRequestError(
                "the shop did not send a PSWS-Version header; is this a PrestaShop Webservice?"
            )
        return self._patch

    # --- reads -------------------------------------------------------------------------------

    def check(self) -> ShopCheck:
        url = self.http.base_url
        try:
            root = self._request("GET", "")
        except ShopError as exc:
            return ShopCheck.failed(backend=self.backend, url=url, error=exc)
        permissions = ws_xml.parse_permissions(root) if root is not None else {}
        missing = []
        for resource, needs in REQUIRED_PERMISSIONS.items():
            granted = permissions.get(resource, ())
            missing += [f"{resource}: {need}" for need in needs if not set(need.split("|")) & set(granted)]
        languages: tuple[ShopLanguage, ...] = ()
        error = ""
        if "GET" in permissions.get("languages", ()):
            try:
                languages = tuple(self.list_languages())
            except ShopError as exc:
                error = str(exc)
        return ShopCheck(
            self.backend,
            url,
            reachable=True,
            authorized=True,
            version=self.version or "",
            languages=languages,
            permissions=permissions,
            missing=tuple(missing),
            error=error,
        )

    def list_languages(self) -> list[ShopLanguage]:
        if self._languages is None:
            root = self._request("GET", "languages", params={"display": "[id,iso_code,name,active]"})
            languages = ws_xml.parse_languages(root) if root is not None else []
            self._languages = [language for language in languages if language.active] or languages
        return list(self._languages)

    def list_categories(self) -> list[ShopCategory]:
        params = {"display": "[id,id_parent,active,level_depth,is_root_category,name]"}
        return self._pages("categories", params, ws_xml.parse_categories)

    def list_manufacturers(self) -> list[ShopManufacturer]:
        return self._pages("manufacturers", {"display": "[id,name,active]"}, ws_xml.parse_manufacturers)

    def find_products(
        self, *, reference: str | None = None, ean13: str | None = None
    ) -> list[ShopProductRef]:
        """Exact matches (case-insensitive, as MySQL compares); both criteria must hold when given."""
        params = {"display": PRODUCT_REF_FIELDS}
        for name, value in (("reference", reference), ("ean13", ean13)):
            if value is None:
                continue
            if not value or not filter_value_is_exact(value) or "\n" in value:
                raise ShopValidationError(f"{name} {value!r} cannot be looked up exactly in the Webservice")
            params[f"filter[{name}]"] = f"[{value}]"
        if len(params) == 1:
            raise ShopValidationError("find_products needs a reference or an ean13")
        return self._pages("products", params, ws_xml.parse_product_refs)

    def get_product_state(self, id_product: int) -> ShopProductState | None:
        root = self._request(
            "GET",
            "products",
            params={
                "filter[id]": f"[{id_product}]",
                "display": "[id,reference,price,active]",
                "id_shop": str(self.config.shop_id),
            },
        )
        rows = ws_xml.parse_product_prices(root) if root is not None else []
        if not rows:
            return None
        _, price, active, reference = rows[0]
        row = self._stock_row(id_product)
        return ShopProductState(
            id=id_product,
            price=price,
            quantity=row.quantity if row else 0,
            active=active,
            reference=reference,
        )

    # --- writes ------------------------------------------------------------------------------

    def create_product(self, draft: ProductDraft) -> int:
        """POST a disabled product. The POST is not repeated blindly: when the outcome is unknown
        (timeout, 5xx) the reference is looked up first, so a retry cannot create a twin."""
        product = prepare_product(draft, languages=self.list_languages())
        body = ws_xml.build_product_xml(
            product, shop_id=self.config.shop_id, tax_rules_group_id=self.config.tax_rules_group_id
        )
        try:
            root = self._request(
                "POST", "products", params={"id_shop": str(self.config.shop_id)}, body=body, idempotent=False
            )
        except ShopTransientError as exc:
            if not exc.maybe_applied or not filter_value_is_exact(product.reference):
                raise
            found = self._reconcile_created(product.reference)
            if found is None:
                raise
            logger.warning(
                "create of %s failed (%s) but the shop has it as product %d", product.reference, exc, found
            )
            return found
        if root is None:
            raise ShopResponseError("POST /api/products: the shop answered without a body")
        return ws_xml.parse_product_id(root)

    def _reconcile_created(self, reference: str) -> int | None:
        try:
            matches = [ref for ref in self.find_products(reference=reference) if ref.reference == reference]
        except ShopError:
            return None
        return matches[-1].id if len(matches) == 1 else None

    def update_products(self, updates: Sequence[ProductUpdate]) -> list[UpdateResult]:
        """Apply each update with at most ``concurrency`` requests in flight.

        A connection or authentication failure stops the items not yet started (they report the
        same error) instead of hammering a shop that is down or refusing the key.
        """
        if not updates:
            return []
        try:
            self._ensure_version()
        except ShopError as exc:
            return [_failed(update, exc) for update in updates]
        abort: list[ShopError] = []

        def run(update: ProductUpdate) -> UpdateResult:
            if abort:
                return _failed(update, abort[0])
            result, fatal = self._update_one(update)
            if fatal is not None:
                abort.append(fatal)
            return result

        workers = min(self.config.concurrency, len(updates))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ps-update") as pool:
            return list(pool.map(run, updates))

    def _update_one(self, update: ProductUpdate) -> tuple[UpdateResult, ShopError | None]:
        applied: list[str] = []
        try:
            if update.quantity is not None:
                self._set_quantity(update.id_product, update.quantity)
                applied.append("quantity")
            if update.price is not None or update.active is not None:
                price = None if update.price is None else format_decimal(update.price, field_name="price")
                self._set_product(update.id_product, price=price, active=update.active)
                applied += [name for name in ("price", "active") if getattr(update, name) is not None]
        except ShopError as exc:
            fatal = exc if isinstance(exc, ShopConnectionError | ShopAuthError) else None
            done = tuple(name for name in update.fields if name in applied)
            return _failed(update, exc, applied=done), fatal
        return UpdateResult(id_product=update.id_product, ok=True, applied=update.fields), None

    def _patch_refused(self, exc: ShopRequestError) -> bool:
        """True (and PATCH is off from now on) when the shop or the key refuses PATCH itself:
        405 code 23 before PrestaShop 8, code 25 when the key is granted PUT but not PATCH."""
        if exc.status != 405 or exc.code not in ("23", "25"):
            return False
        logger.warning("the shop refuses PATCH (405, code %s); using GET then PUT from now on", exc.code)
        with self._lock:
            self._patch = False
        return True

    def _set_product(self, id_product: int, *, price: str | None, active: bool | None) -> None:
        params = {"id_shop": str(self.config.shop_id)}
        if self._patch:
            body = ws_xml.build_product_patch_xml(id_product=id_product, price=price, active=active)
            try:
                self._request("PATCH", f"products/{id_product}", params=params, body=body)
                return
            except ShopRequestError as exc:
                if not self._patch_refused(exc):
                    raise
        # PUT replaces the whole product, so send back everything it has, minus what PUT refuses.
        document = self._request("GET", f"products/{id_product}", params=params)
        if document is None:
            raise ShopNotFoundError(f"GET /api/products/{id_product}: HTTP 404, no such product", status=404)
        body = ws_xml.product_put_xml(document, price=price, active=active)
        self._request("PUT", f"products/{id_product}", params=params, body=body)

    def _stock_row(self, id_product: int) -> ws_xml.StockRow | None:
        root = self._request(
            "GET",
            "stock_availables",
            params={
                "filter[id_product]": f"[{id_product}]",
                "filter[id_product_attribute]": "[0]",
                "display": STOCK_FIELDS,
            },
        )
        rows = ws_xml.parse_stock_rows(root) if root is not None else []
        return ws_xml.pick_stock_row(rows, shop_id=self.config.shop_id)

    def _find_stock_row(self, id_product: int) -> ws_xml.StockRow:
        row = self._stock_row(id_product)
        if row is None:
            raise ShopNotFoundError(
                f"product {id_product} has no stock row for shop {self.config.shop_id} "
                "(unknown product, or stock shared in a way Genesys does not update)",
                status=404,
            )
        return row

    def _set_quantity(self, id_product: int, quantity: int) -> None:
        """Stock lives in ``stock_availables`` rows the shop creates itself (they refuse POST)."""
        if self._patch:
            try:
                self._patch_quantity(id_product, quantity)
                return
            except ShopRequestError as exc:
                if not self._patch_refused(exc):
                    raise
        row = self._find_stock_row(id_product)
        self._request(
            "PUT", f"stock_availables/{row.id}", body=ws_xml.build_stock_put_xml(row, quantity=quantity)
        )

    def _patch_quantity(self, id_product: int, quantity: int) -> None:
        """PATCH the cached stock row id; look the row up again if it is unknown or gone."""
        stock_id = self._stock_ids.get(id_product)
        if stock_id is not None:
            body = ws_xml.build_stock_patch_xml(id_stock=stock_id, quantity=quantity)
            try:
                self._request("PATCH", f"stock_availables/{stock_id}", body=body)
                return
            except ShopNotFoundError:
                self._stock_ids.pop(id_product, None)
        row = self._find_stock_row(id_product)
        self._stock_ids[id_product] = row.id
        body = ws_xml.build_stock_patch_xml(id_stock=row.id, quantity=quantity)
        self._request("PATCH", f"stock_availables/{row.id}", body=body)


def _failed(update: ProductUpdate, exc: ShopError, *, applied: tuple[str, ...] = ()) -> UpdateResult:
    return UpdateResult(
        id_product=update.id_product,
        ok=False,
        applied=applied,
        error=str(exc),
        code=exc.code,
        status=exc.status,
        permanent=exc.permanent,
    )
