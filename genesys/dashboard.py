"""rq-dashboard as its own process, never open to anonymous users.

rq-dashboard is a Flask app with optional basic auth. This factory makes the auth mandatory
(credentials from ``RQ_DASHBOARD_USERNAME`` / ``RQ_DASHBOARD_PASSWORD``), compares them in
constant time, covers static files too, and reads jobs with the JSON serializer Genesys uses.
Serve it bound to 127.0.0.1: ``gunicorn 'genesys.dashboard:create_app()' -b 127.0.0.1:9181``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import Callable, Iterable
from typing import Any

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
    return BasicAuthMiddleware(flask_app.wsgi_app, username=username, password=password)
