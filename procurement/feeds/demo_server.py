"""The demo's "Nortech" supplier API: a paged JSON endpoint behind a bearer token.

``GET /nortech/api/products?page=N&per_page=M`` answers ``{"data": {"products": [...]},
"page": N, ...}`` from ``demo/feeds/nortech/products.json``, and 401 without
``Authorization: Bearer <token>``. It exists so that ``make run`` exercises the real HTTP path
(authentication, pagination, JSON) of the feed reader with no outside service.
"""

from __future__ import annotations

import hmac
import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger("procurement.feeds.demo_server")

PRODUCTS_PATH = "/nortech/api/products"
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100


def demo_server_create(*, host: str, port: int, token: str, products_file: Path) -> ThreadingHTTPServer:
    """A server (not yet serving) for the Nortech demo API; ``port`` 0 picks a free port."""
    if not token:
        raise ValueError("The demo API needs a non-empty bearer token.")
    document = json.loads(products_file.read_text(encoding="utf-8"))
    products = document["products"] if isinstance(document, dict) else document
    expected = f"Bearer {token}".encode()

    class Handler(BaseHTTPRequestHandler):
        server_version = "GenesysDemoFeeds/1.0"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path.rstrip("/") != PRODUCTS_PATH:
                self._send(404, {"error": "not found"})
                return
            given = self.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                self._send(401, {"error": "a valid bearer token is required"}, {"WWW-Authenticate": "Bearer"})
                return
            query = parse_qs(parts.query)
            try:
                page = int(query.get("page", ["1"])[0])
                per_page = int(query.get("per_page", [str(DEFAULT_PER_PAGE)])[0])
            except ValueError:
                self._send(400, {"error": "page and per_page must be integers"})
                return
            if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
                self._send(400, {"error": f"page must be >= 1 and per_page between 1 and {MAX_PER_PAGE}"})
                return
            start = (page - 1) * per_page
            self._send(
                200,
                {
                    "data": {"products": products[start : start + per_page]},
                    "page": page,
                    "per_page": per_page,
                    "total": len(products),
                },
            )

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.info("%s %s", self.address_string(), format % args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
