"""The fake shop over real HTTP (``ThreadingHTTPServer``), plus the handle tests inspect.

Both contracts can share one port: ``/api/`` is the Webservice, ``/r_genesys/`` the module.
Tests start it in-process on port 0 (``running_fake_shop()``); ``manage.py fake_prestashop``
runs the same class for the demo.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from prestashop import rg_json
from prestashop.fake import catalog
from prestashop.fake.r_genesys import RGenesysApp
from prestashop.fake.seed import seed
from prestashop.fake.store import FakeStore, new_doc
from prestashop.fake.webservice import WebserviceApp
from prestashop.fake.wire import FakeRequest, FakeResponse, FakeShopSettings, Permissions
from prestashop.fields import format_decimal, link_rewrite
from prestashop.transport import scrub

logger = logging.getLogger("prestashop.fake")

DEFAULT_TEST_KEY = "GENESYSTESTKEY0123456789ABCDEFGH"  # 32 characters, like a real Webservice key
BACKENDS = ("webservice", "r_genesys", "both")
SERVER_ERROR_PAGE = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n'
    b"<html><head>\n<title>500 Internal Server Error</title>\n"
    b"</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or\n"
    b"misconfiguration and was unable to complete your request.</p>\n</body></html>\n"
)
NOT_FOUND_PAGE = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n'
    b"</head><body>\n<h1>Not Found</h1>\n"
    b"<p>The requested URL was not found on this server.</p>\n</body></html>\n"
)
PHP_NOTICE = (
    b"<br />\n<b>Notice</b>:  Undefined index: id_shop in <b>/var/www/html/classes/Product.php</b> "
    b"on line <b>4312</b><br />\n"
)
_SECRET_HEADERS = {"authorization", rg_json.KEY_HEADER.lower()}


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # without credentials
    body: str
    status: int
    backend: str  # webservice | r_genesys | other | fault
    duration_ms: float


@dataclass(slots=True)
class Fault:
    status: int
    body: bytes
    content_type: str
    remaining: int
    path_contains: str | None = None
    method: str | None = None
    prepend: bool = False  # put ``body`` before the real response (status unchanged) instead
    after: bool = False  # handle the request, then answer with the fault: the change is applied
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections
    server_version = "Apache"
    sys_version = ""
    timeout = 60  # an idle keep-alive connection releases its thread after this
    # Headers and body go out in two writes; with Nagle on, each answer waits ~40 ms for an ACK.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        shop: FakeShop = self.server.shop  # type: ignore[attr-defined]
        response = shop.dispatch(self.command, self.path, headers, body)
        payload = b"" if self.command == "HEAD" else response.body
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                if name.lower() != "content-type":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), scrub(format % args))


class FakeShop:
    """A running fake shop: ``url`` for clients, ``store`` and helpers for assertions."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        backend: str = "both",
        api_key: str = DEFAULT_TEST_KEY,
        keys: Mapping[str, Mapping[str, Iterable[str]] | None] | None = None,
        version: str = "8.1.5",
        latency_ms: float = 0,
        fail_rate: float = 0.0,
        state: str = ":memory:",
        shop_ids: tuple[int, ...] = (1,),
        max_batch_size: int = 200,
        request_log_size: int = 10_000,
        random_seed: int | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
        if not 0 <= fail_rate <= 1:
            raise ValueError("fail_rate is a probability between 0 and 1")
        self.host = host
        self.backend = backend
        self.latency_ms = latency_ms
        self.fail_rate = fail_rate
        self.store = FakeStore(state)
        seed(self.store)
        all_keys: dict[str, Permissions] = {api_key: None}
        for key, permissions in (keys or {}).items():
            all_keys[key] = None if permissions is None else {r: frozenset(m) for r, m in permissions.items()}
        self.settings = FakeShopSettings(
            keys=all_keys, version=version, shop_ids=shop_ids, max_batch_size=max_batch_size
        )
        self.webservice = WebserviceApp(self.store, self.settings)
        self.r_genesys = RGenesysApp(self.store, self.settings)
        self._random = random.Random(random_seed)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._log: deque[LoggedRequest] = deque(maxlen=request_log_size)
        self._in_flight = 0
        self._max_in_flight = 0
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.shop = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeShop:
        # A short poll interval makes stop() (and every test using the shop) return quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-shop", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self.store.close()

    def __enter__(self) -> FakeShop:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- knobs for tests ---------------------------------------------------------------------

    @property
    def version(self) -> str:
        return self.settings.version

    @version.setter
    def version(self, value: str) -> None:
        self.settings.version = value

    def grant(self, key: str, permissions: Mapping[str, Iterable[str]] | None) -> None:
        """Add or replace a key: ``{"products": ["GET"]}``, or None for every permission."""
        self.settings.keys[key] = (
            None if permissions is None else {r: frozenset(m) for r, m in permissions.items()}
        )

    def add_fault(
        self,
        *,
        status: int = 500,
        body: bytes = SERVER_ERROR_PAGE,
        content_type: str = "text/html; charset=iso-8859-1",
        times: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
        prepend: bool = False,
        after: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with this instead of the real answer.

        ``prepend`` puts ``body`` before the real body (a PHP notice); ``after`` lets the shop
        handle the request first, so the change is stored but the client sees the fault.
        """
        with self._lock:
            self._faults.append(
                Fault(
                    status,
                    body,
                    content_type,
                    times,
                    path_contains,
                    method,
                    prepend,
                    after,
                    dict(headers or {}),
                )
            )

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()
            self._max_in_flight = self._in_flight

    # --- state helpers -----------------------------------------------------------------------

    def product(self, id_product: int) -> catalog.FakeProduct | None:
        doc = self.store.get("products", id_product)
        return (
            None
            if doc is None
            else catalog.product_view(self.store, doc, default_shop=self.settings.default_shop)
        )

    def products(self) -> list[catalog.FakeProduct]:
        docs = self.store.get_many("products", self.store.select_ids("products"))
        return [
            catalog.product_view(self.store, doc, default_shop=self.settings.default_shop) for doc in docs
        ]

    def stock_rows(self, id_product: int) -> list[dict[str, Any]]:
        return [row["f"] for row in catalog.stock_rows(self.store, id_product)]

    def add_product(
        self,
        *,
        reference: str,
        price: Decimal | str = "10",
        name: str | None = None,
        quantity: int = 0,
        active: bool = False,
        ean13: str = "",
        id_category_default: int = 3,
        id_manufacturer: int = 0,
    ) -> int:
        """Put a complete product straight into the state (for tests and the bench)."""
        name = name or f"Product {reference}"
        doc = new_doc()
        stamp = catalog.now()
        doc["f"].update(
            {
                "id_manufacturer": str(id_manufacturer),
                "id_category_default": str(id_category_default),
                "id_tax_rules_group": "1",
                "id_shop_default": str(self.settings.default_shop),
                "reference": reference,
                "ean13": ean13,
                "price": format_decimal(Decimal(price), field_name="price"),
                "weight": "0.000000",
                "active": "1" if active else "0",
                "state": "1",
                "product_type": "standard",
                "condition": "new",
                "visibility": "both",
                "available_for_order": "1",
                "show_price": "1",
                "minimal_quantity": "1",
                "date_add": stamp,
                "date_upd": stamp,
            }
        )
        languages = [str(i) for i in self.store.select_ids("languages")]
        doc["l"] = {
            "name": dict.fromkeys(languages, name),
            "link_rewrite": dict.fromkeys(languages, link_rewrite(name)),
            "description": dict.fromkeys(languages, ""),
            "description_short": dict.fromkeys(languages, ""),
        }
        doc["a"]["categories"] = [{"id": str(id_category_default)}]
        with self.store.transaction():
            id_product = self.store.insert("products", doc)
            catalog.create_stock_rows(self.store, id_product, self.settings.shop_ids)
            if quantity:
                for shop in self.settings.shop_ids:
                    catalog.set_quantity(self.store, id_product, shop, quantity)
        return id_product

    # --- request handling --------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _route(self, request: FakeRequest, host: str) -> tuple[FakeResponse, str]:
        path = request.path
        if self.backend != "r_genesys" and (path == "/api" or path.startswith("/api/")):
            return self.webservice.handle(request, base_url=f"http://{host}"), "webservice"
        if self.backend != "webservice" and (path == "/r_genesys" or path.startswith("/r_genesys/")):
            return self.r_genesys.handle(request), "r_genesys"
        if path == "/":
            text = f"Fake PrestaShop {self.settings.version} ({self.backend}): /api/ and /r_genesys/\n"
            return FakeResponse(200, text.encode(), "text/plain; charset=utf-8"), "other"
        return FakeResponse(404, NOT_FOUND_PAGE, "text/html; charset=iso-8859-1"), "other"

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> FakeResponse:
        started = time.monotonic()
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            if self.latency_ms:
                time.sleep(self.latency_ms / 1000)
            parts = urlsplit(raw_path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            request = FakeRequest(method=method, path=parts.path, query=query, headers=headers, body=body)
            response, backend = self._respond(request, headers.get("host", f"{self.host}:{self.port}"))
        finally:
            with self._lock:
                self._in_flight -= 1
        logged = LoggedRequest(
            method=method,
            path=parts.path,
            query=query,
            headers={k: v for k, v in headers.items() if k not in _SECRET_HEADERS},
            body=body.decode("utf-8", errors="replace"),
            status=response.status,
            backend=backend,
            duration_ms=(time.monotonic() - started) * 1000,
        )
        with self._lock:
            self._log.append(logged)
        return response

    def _respond(self, request: FakeRequest, host: str) -> tuple[FakeResponse, str]:
        fault = self._take_fault(request.method, request.path)
        if fault is not None and not (fault.prepend or fault.after):
            return FakeResponse(fault.status, fault.body, fault.content_type, dict(fault.headers)), "fault"
        if self.fail_rate and self._random.random() < self.fail_rate:
            return FakeResponse(500, SERVER_ERROR_PAGE, "text/html; charset=iso-8859-1"), "fault"
        try:
            response, backend = self._route(request, host)
        except Exception:
            logger.exception("fake shop failed on %s %s", request.method, scrub(request.path))
            return FakeResponse(500, SERVER_ERROR_PAGE, "text/html; charset=iso-8859-1"), "other"
        if fault is not None and fault.after:
            return FakeResponse(fault.status, fault.body, fault.content_type, dict(fault.headers)), "fault"
        if fault is not None:  # a PHP notice printed before the real output, status unchanged
            response.body = fault.body + response.body
        return response, backend


@contextmanager
def running_fake_shop(**options: Any) -> Iterator[FakeShop]:
    """Start a fake shop on a free port for the duration of the block (options: ``FakeShop``)."""
    shop = FakeShop(**options).start()
    try:
        yield shop
    finally:
        shop.stop()
