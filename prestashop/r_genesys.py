"""``ShopClient`` over the shop's r_genesys module (JSON, contract in docs/r_genesys.md).

Batches many products per request, so it is the fast path for the sync worker; the Webservice
backend remains for shops without the module.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from prestashop import rg_json
from prestashop.config import ShopConfig
from prestashop.errors import (
    ShopAuthError,
    ShopConnectionError,
    ShopError,
    ShopNotFoundError,
    ShopRequestError,
    ShopResponseError,
    ShopServerError,
    ShopValidationError,
    attempts_note,
    shop_error_for_status,
)
from prestashop.fields import prepare_product
from prestashop.transport import ShopTransport, describe_body, response_attempts
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

logger = logging.getLogger("prestashop.r_genesys")

BASE_PATH = "r_genesys/"


class RGenesysClient:
    backend = "r_genesys"

    def __init__(self, *, config: ShopConfig) -> None:
        self.config = config
        self.http = ShopTransport.for_shop(
            config=config,
            path=BASE_PATH,
            headers={
                rg_json.KEY_HEADER: config.api_key,
                rg_json.SHOP_HEADER: str(config.shop_id),
                "Accept": "application/json",
            },
            secrets=(config.api_key,),
        )
        self.version = ""
        self._languages: list[ShopLanguage] | None = None

    def __enter__(self) -> RGenesysClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # --- HTTP --------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        action: str,
        *,
        params: dict[str, str] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Any:
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else None
        # Every r_genesys call is safe to repeat: updates carry absolute values, creates an
        # idempotency key the module remembers.
        response = self.http.request(
            method, action, params=params, data=body, headers=headers, idempotent=True
        )
        label = f"{method} /{BASE_PATH}{action}"
        contract = response.headers.get(rg_json.CONTRACT_HEADER, "")
        if contract and contract.split(".")[0] != str(rg_json.CONTRACT_VERSION):
            raise ShopResponseError(
                f"{label}: the module speaks contract {contract}, Genesys speaks {rg_json.CONTRACT_VERSION}",
                status=response.status_code,
            )
        try:
            data = response.json()
        except (ValueError, requests.JSONDecodeError):
            data = None
        if response.status_code >= 400:
            raise self._error(response, data, label)
        if not isinstance(data, dict):
            raise ShopResponseError(
                self.http.scrub(
                    f"{label}: HTTP {response.status_code} with {describe_body(response.content)}"
                ),
                status=response.status_code,
                permanent=response.status_code < 500,
            )
        return data

    def _error(self, response: requests.Response, data: Any, label: str) -> ShopError:
        status = response.status_code
        tries = attempts_note(response_attempts(response))
        code, message = rg_json.error_body(data)
        detail = f"r_genesys error {code}: {message}" if code else describe_body(response.content)
        text = self.http.scrub(f"{label}: HTTP {status}{tries}, {detail}"[:600])
        return shop_error_for_status(text, status=status, code=code)

    def _pages(self, action: str) -> list[dict[str, Any]]:
        """Every page of a list; the module says where the next one starts (``next_offset``)."""
        payloads = []
        offset: int | None = 0
        while offset is not None:
            limit = min(self.config.page_size, rg_json.MAX_PAGE_SIZE)
            payload = self._request("GET", action, params={"offset": str(offset), "limit": str(limit)})
            payloads.append(payload)
            following = rg_json.next_offset(payload)
            offset = following if following is not None and following > offset else None
        return payloads

    # --- reads -------------------------------------------------------------------------------

    def check(self) -> ShopCheck:
        url = self.http.base_url
        try:
            status = self._request("GET", "status")
        except ShopError as exc:
            return ShopCheck.failed(backend=self.backend, url=url, error=exc)
        self.version = str(status.get("ps_version") or "")
        endpoints = status.get("endpoints") if isinstance(status.get("endpoints"), list) else []
        permissions = {str(name): ("GET" if str(name).startswith(("get", "find", "status")) else "POST",)
                       for name in endpoints}  # fmt: skip
        missing = tuple(
            f"{name}: not offered by the module" for name in rg_json.ENDPOINTS if name not in endpoints
        )
        error = ""
        if status.get("contract") != rg_json.CONTRACT_VERSION:
            error = f"the module speaks contract {status.get('contract')}, Genesys {rg_json.CONTRACT_VERSION}"
        languages: tuple[ShopLanguage, ...] = ()
        try:
            languages = tuple(self.list_languages())
        except ShopError as exc:
            error = error or str(exc)
        return ShopCheck(
            self.backend,
            url,
            reachable=True,
            authorized=True,
            version=self.version,
            languages=languages,
            permissions=permissions,
            missing=missing,
            error=error,
        )

    def list_languages(self) -> list[ShopLanguage]:
        if self._languages is None:
            languages = rg_json.parse_languages(self._request("GET", "getlanguages"))
            self._languages = [language for language in languages if language.active] or languages
        return list(self._languages)

    def list_categories(self) -> list[ShopCategory]:
        return [c for payload in self._pages("getcategories") for c in rg_json.parse_categories(payload)]

    def list_manufacturers(self) -> list[ShopManufacturer]:
        return [b for payload in self._pages("getbrands") for b in rg_json.parse_brands(payload)]

    def find_products(
        self, *, reference: str | None = None, ean13: str | None = None
    ) -> list[ShopProductRef]:
        params = {
            name: value for name, value in (("reference", reference), ("ean13", ean13)) if value is not None
        }
        if not params or not all(params.values()):
            raise ShopValidationError("find_products needs a non-empty reference or ean13")
        return rg_json.parse_products(self._request("GET", "findproducts", params=params))

    def get_product_state(self, id_product: int) -> ShopProductState | None:
        try:
            payload = self._request("GET", "getproduct", params={"id_product": str(id_product)})
        except ShopNotFoundError as exc:
            if exc.code != "product_not_found":  # e.g. the module itself is missing: not an answer
                raise
            return None
        return rg_json.parse_state(payload)

    # --- writes ------------------------------------------------------------------------------

    def create_product(self, draft: ProductDraft) -> int:
        product = prepare_product(draft, languages=self.list_languages())
        payload = rg_json.build_create_request([product], tax_rules_group_id=self.config.tax_rules_group_id)
        [result] = rg_json.parse_create_results(
            self._request("POST", "createproducts", payload=payload), [product.idempotency_key]
        )
        if result.error is not None:
            error_type = ShopRequestError if result.error.permanent else ShopServerError
            raise error_type(
                f"create of {product.reference!r} refused: {result.error.message} ({result.error.code})",
                status=200,
                code=result.error.code,
            )
        if result.id_product is None:
            raise ShopResponseError(f"r_genesys created {product.reference!r} without answering its id")
        if not result.created:
            logger.info("r_genesys already had %s as product %s", product.reference, result.id_product)
        return result.id_product

    def update_products(self, updates: Sequence[ProductUpdate]) -> list[UpdateResult]:
        """Send ``batch_size`` items per request, at most ``concurrency`` requests at a time."""
        if not updates:
            return []
        size = min(self.config.batch_size, rg_json.MAX_BATCH_SIZE)
        chunks = [list(updates[i : i + size]) for i in range(0, len(updates), size)]
        abort: list[ShopError] = []

        def run(chunk: list[ProductUpdate]) -> list[UpdateResult]:
            if abort:
                return [_failed(update, abort[0]) for update in chunk]
            return self._update_chunk(chunk, abort)

        workers = min(self.config.concurrency, len(chunks))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rg-update") as pool:
            return [result for results in pool.map(run, chunks) for result in results]

    def _update_chunk(self, chunk: list[ProductUpdate], abort: list[ShopError]) -> list[UpdateResult]:
        try:
            payload = self._request("POST", "updateproducts", payload=rg_json.build_update_request(chunk))
            return rg_json.parse_update_results(payload, chunk)
        except ShopError as exc:
            if exc.status == 413 and len(chunk) > 1:
                # The module's limit is lower than ours: halve until it fits.
                half = len(chunk) // 2
                return self._update_chunk(chunk[:half], abort) + self._update_chunk(chunk[half:], abort)
            if isinstance(exc, ShopConnectionError | ShopAuthError):
                abort.append(exc)
            return [_failed(update, exc) for update in chunk]


def _failed(update: ProductUpdate, exc: ShopError) -> UpdateResult:
    return UpdateResult(
        id_product=update.id_product,
        ok=False,
        error=str(exc),
        code=exc.code,
        status=exc.status,
        permanent=exc.permanent,
    )
