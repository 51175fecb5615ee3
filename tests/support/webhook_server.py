"""A real HTTP server that receives webhook POSTs, for the notification tests.

It listens on 127.0.0.1 on a free port in a background thread and records every request (headers
and raw body); ``statuses`` lists the answers to give in turn (200 once they run out)::

    def test_something(webhook_server):
        webhook_server.statuses = [500]  # the first POST fails, the next succeeds
        ...
        assert webhook_server.received[1].json()["kind"] == "run_failed"
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    status: int  # what the server answered

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/genesys"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with server._lock:
                    status = server.statuses.pop(0) if server.statuses else 200
                    server.received.append(
                        Received(
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            status=status,
                        )
                    )
                reply = b"ok" if status < 300 else b"internal error"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def webhook_server():
    server = WebhookServer()
    yield server
    server.close()
