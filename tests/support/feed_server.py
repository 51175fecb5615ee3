"""A real HTTP server for feed tests: routes with status, headers, body, delays and redirects.

It listens on 127.0.0.1 on a free port in a background thread, so the code under test talks to
it over real sockets with ``requests`` (nothing is mocked). Each test registers the routes it
needs and can inspect the requests the server received::

    def test_something(feed_server):
        feed_server.route("/feed.csv", body=b"sku;price\\n...")
        source = FeedSource(url=feed_server.url("/feed.csv"), format="csv")
        ...
        assert feed_server.requests[0].headers["authorization"] == "Bearer t0ken"

A body may be bytes, text, an iterable of byte chunks (streamed without Content-Length, for
feeds generated on the fly) or a callable receiving the ``RecordedRequest`` and returning any of
those or a full ``Reply`` (pagination, authentication checks).

Hostile servers: ``hold=True`` never answers (until the server closes), ``stall`` waits after the
headers, ``trickle`` sends the body one byte at a time with that many seconds between bytes.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union
from urllib.parse import parse_qsl, urlsplit

import pytest

Body = Union[bytes, str, Iterable[bytes], "Reply"]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str | Iterable[bytes] = b""
    delay: float = 0.0  # seconds before the status line (a slow server)
    stall: float = 0.0  # seconds after the headers, before the body (a server that stops sending)
    trickle: float = 0.0  # seconds between bytes of the body (a server that never quite stops)
    hold: bool = False  # never send anything, until the server closes (a server that hangs)


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    target: str  # path and query string as sent


@dataclass
class _Route:
    reply: Reply | Callable[[RecordedRequest], Body]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, _Route] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self.closing = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(
        self,
        path: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes | str | Iterable[bytes] | Callable[[RecordedRequest], Body] = b"",
        delay: float = 0.0,
        stall: float = 0.0,
        trickle: float = 0.0,
        hold: bool = False,
        redirect_to: str | None = None,
    ) -> None:
        """Answer GET ``path`` (any query string). ``redirect_to`` makes it a 302 to that path or URL."""
        if redirect_to is not None:
            location = redirect_to if "://" in redirect_to else self.url(redirect_to)
            self.routes[path] = _Route(Reply(status=302, headers={"Location": location}))
        elif callable(body):
            self.routes[path] = _Route(body)
        else:
            self.routes[path] = _Route(
                Reply(
                    status=status,
                    headers=dict(headers or {}),
                    body=body,
                    delay=delay,
                    stall=stall,
                    trickle=trickle,
                    hold=hold,
                )
            )

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.closing.set()  # hanging and trickling replies let go
        self.httpd.shutdown()
        self.httpd.server_close()

    def _reply_for(self, request: RecordedRequest) -> Reply:
        route = self.routes.get(request.path)
        if route is None:
            return Reply(status=404, body=b"no such route")
        if isinstance(route.reply, Reply):
            return route.reply
        answer = route.reply(request)
        return answer if isinstance(answer, Reply) else Reply(body=answer)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: simple and explicit

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = RecordedRequest(
                    method="GET",
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    target=self.path,
                )
                with server._lock:
                    server.requests.append(request)
                try:
                    self._send(server._reply_for(request))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to do

            def _send(self, reply: Reply) -> None:
                if reply.hold:
                    server.closing.wait()
                    return
                if reply.delay and server.closing.wait(reply.delay):
                    return
                body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                names = {name.lower() for name in reply.headers}
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if isinstance(body, bytes) and "content-length" not in names:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                if reply.stall and server.closing.wait(reply.stall):
                    return
                _body_write(self.wfile, body, trickle=reply.trickle, closing=server.closing)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _body_write(
    wfile: Any, body: bytes | Iterable[bytes], *, trickle: float, closing: threading.Event
) -> None:
    """Send the body: at once, one byte per ``trickle`` seconds, or chunk by chunk (streamed)."""
    if isinstance(body, bytes) and trickle:
        for position in range(len(body)):
            if closing.wait(trickle):
                return
            wfile.write(body[position : position + 1])
            wfile.flush()
    elif isinstance(body, bytes):
        wfile.write(body)
    else:
        for chunk in body:
            wfile.write(chunk)


def free_port() -> int:
    """A port nothing listens on (for "connection refused")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chunks(lines: Iterator[str], *, size: int = 64 * 1024) -> Iterator[bytes]:
    """Group generated text lines into byte chunks, so a big feed is streamed, never stored."""
    buffer: list[str] = []
    length = 0
    for line in lines:
        buffer.append(line)
        length += len(line)
        if length >= size:
            yield "".join(buffer).encode("utf-8")
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer).encode("utf-8")


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()
