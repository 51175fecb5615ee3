"""rq-dashboard as its own process, never open to anonymous users.

rq-dashboard is a Flask app with optional basic auth. This factory makes the auth mandatory
(credentials from ``RQ_DASHBOARD_USERNAME`` / ``RQ_DASHBOARD_PASSWORD``), compares them in
constant time, covers static files too, and reads jobs with the JSON serializer Genesys uses.
Serve it bound to 127.0.0.1: ``gunicorn 'genesys.dashboard:create_app()' -b 127.0.0.1:9181``.

Basic auth is not CSRF protection: a browser that has logged in sends the credentials with any
request a foreign page makes, including a ``text/plain`` POST that needs no CORS preflight. So
every request that is not a plain read must come from the dashboard's own origin (its ``Origin``
header, or ``Referer`` when there is no ``Origin``); others are refused before rq-dashboard sees
them. ``RQ_DASHBOARD_TRUSTED_ORIGINS`` adds origins (a proxy's public address).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from genesys.env import Env

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BasicAuthMiddleware:
    def __init__(self, app: WsgiApp, *, username: str, password: str, realm: str = "Genesys RQ") -> None:
        self.app = app
        self.expected = f"{username}:{password}".encode()
        self.realm = realm

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return False
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self.expected)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._authorized(environ.get("HTTP_AUTHORIZATION", "")):
            return self.app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("WWW-Authenticate", f'Basic realm="{self.realm}", charset="UTF-8"'),
            ],
        )
        return [b"Login required.\n"]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# rq-dashboard answers GET on this one too, and it requeues every failed job: POST only here.
_WRITES_ON_GET = re.compile(r"^/requeue/[^/]+/?$")


class SameOriginMiddleware:
    """Refuse writes (any non-GET, and the requeue GET) that do not come from our own origin."""

    def __init__(self, app: WsgiApp, *, trusted_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = {self._origin_key(o) for o in trusted_origins if o.strip()}

    @staticmethod
    def _origin_key(value: str) -> tuple[str, str]:
        parts = urlsplit(value.strip())
        return parts.scheme.lower(), parts.netloc.lower()

    def _own_origin(self, environ: dict[str, Any]) -> tuple[str, str]:
        host = (
            environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
        )
        return environ.get("wsgi.url_scheme", "http").lower(), host.lower()

    def _same_origin(self, environ: dict[str, Any]) -> bool:
        origin = environ.get("HTTP_ORIGIN", "").strip()
        if not origin or origin == "null":
            referer = environ.get("HTTP_REFERER", "").strip()
            if not referer:
                return False
            origin = referer
        key = self._origin_key(origin)
        return key == self._own_origin(environ) or key in self.trusted

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "")
        if method in SAFE_METHODS and _WRITES_ON_GET.match(path):
            start_response(
                "405 Method Not Allowed", [("Content-Type", "text/plain; charset=utf-8"), ("Allow", "POST")]
            )
            return [b"Use the dashboard's button (POST).\n"]
        if method not in SAFE_METHODS and not self._same_origin(environ):
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Cross-site request refused: the Origin or Referer is not this dashboard.\n"]
        return self.app(environ, start_response)


def create_app(environ: dict[str, str] | None = None) -> WsgiApp:
    env = Env(environ if environ is not None else os.environ)
    username = env.str("RQ_DASHBOARD_USERNAME")
    password = env.secret("RQ_DASHBOARD_PASSWORD")
    if len(password) < 12:
        raise SystemExit("RQ_DASHBOARD_PASSWORD must be at least 12 characters.")
    redis_url = env.url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=["redis", "rediss", "unix"])

    from rq.serializers import JSONSerializer
    from rq_dashboard.cli import make_flask_app
    from rq_dashboard.web import config as service_config
    from rq_dashboard.web import setup_rq_connection

    flask_app = make_flask_app(None, None, None, "")
    flask_app.config["RQ_DASHBOARD_REDIS_URL"] = redis_url
    flask_app.config["DEPRECATED_OPTIONS"] = []
    service_config.serializer = JSONSerializer
    setup_rq_connection(flask_app)
    guarded = SameOriginMiddleware(
        flask_app.wsgi_app, trusted_origins=env.list("RQ_DASHBOARD_TRUSTED_ORIGINS", [])
    )
    return BasicAuthMiddleware(guarded, username=username, password=password)
