"""HTTP for the shop clients: one pooled session, timeouts, bounded retries with backoff + jitter
(the retry policy and schedule are genesys.http's, shared with the feed downloads).

Both backends share it; they differ only in how they read bodies and errors. Nothing here logs
headers or bodies, and every URL that reaches a log line or an exception goes through ``scrub``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from genesys.http import RetryPolicy, RetrySchedule, retry_after_seconds
from prestashop.errors import ShopConnectionError, ShopRequestError, ShopTimeoutError
from prestashop.fields import clean_text

if TYPE_CHECKING:
    from prestashop.config import ShopConfig

logger = logging.getLogger("prestashop.http")

_PHP_MESSAGE = re.compile(r"\b(Notice|Warning|Fatal error|Deprecated|Parse error|Strict Standards)\b\s*:")
_TAGS = re.compile(r"<[^>]+>")
_WS_KEY = re.compile(r"(ws_key=)[^&#\s]*", re.IGNORECASE)
_USERINFO = re.compile(r"(://)[^/@\s]+@")
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# 429 and 503 mean "not now": the shop did not process the request, so even a create may retry.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})


def scrub(text: str, *, secrets: Sequence[str] = ()) -> str:
    """Remove credentials from a URL or message: ``ws_key`` values, URL user info, known secrets."""
    text = _WS_KEY.sub(r"\1***", text)
    text = _USERINFO.sub(r"\1***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def strip_userinfo(url: str) -> str:
    """The URL without ``user:password@``; credentials travel only in the auth header."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def snippet(text: str) -> str:
    """The start of a body as one line of text, for error messages."""
    flat = " ".join(_TAGS.sub(" ", text).split())
    return flat[:160] + ("…" if len(flat) > 160 else "")


_ATTEMPTS = "genesys_attempts"


def response_attempts(response: requests.Response) -> int:
    """How many tries ShopTransport.request made for ``response`` (1 for one it did not send).

    requests' Response has no place for it, so the transport keeps it in the instance's own
    attributes, under a name of ours; this is the one place that reads it."""
    return int(vars(response).get(_ATTEMPTS, 1))


def describe_body(body: bytes) -> str:
    """What an unexpected body looks like (HTML page, PHP notices, other text), for messages."""
    text = clean_text(body.decode("utf-8", errors="replace")).strip()
    if not text:
        return "an empty body"
    head = text[:2000]
    if _PHP_MESSAGE.search(_TAGS.sub("", head)):  # PHP prints "<b>Notice</b>:  ..."
        kind = "PHP notices or errors"
    elif any(marker in head.lower() for marker in ("<html", "<!doctype html", "<body")):
        kind = "an HTML page"
    else:
        kind = "an unexpected body"
    return f"{kind}: {snippet(text)!r}"


def _not_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so the shop cannot have seen the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _describe(exc: requests.RequestException) -> str:
    """A short cause without the URL (which requests puts in its messages)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    text = str(reason if reason is not None else exc)
    text = re.sub(r"<urllib3[^>]*>:?\s*", "", text)
    text = re.sub(r"HTTP(S)?ConnectionPool\([^)]*\):\s*", "", text)
    return text[:200]


class ShopTransport:
    """A requests session bound to one base URL, with the retry policy applied per request."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout: tuple[float, float],
        retry: RetryPolicy,
        pool_size: int,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        should_retry: Callable[[requests.Response], bool] | None = None,
    ) -> None:
        self.base_url = strip_userinfo(base_url)
        self.timeout = timeout
        self.retry = retry
        self._secrets = tuple(s for s in secrets if s)
        self._should_retry = should_retry or (lambda response: response.status_code in RETRYABLE_STATUSES)
        self.session = requests.Session()
        # requests re-reads proxy variables on every request (~1 ms of CPU each) and may take
        # credentials from ~/.netrc; read the environment once here and never consult .netrc.
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if ca_bundle:
            self.session.verify = ca_bundle
        adapter = HTTPAdapter(
            pool_connections=2, pool_maxsize=max(1, pool_size), max_retries=0, pool_block=True
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.auth = auth
        self.session.headers.update({"User-Agent": "Genesys shop client", **(headers or {})})

    @classmethod
    def for_shop(cls, *, config: ShopConfig, path: str, **options: Any) -> ShopTransport:
        """A transport to ``path`` under the shop's URL with the shop's timeouts, retries and pool
        (both clients build theirs here; ``options`` add auth, headers and the retry rule)."""
        return cls(
            base_url=config.url.rstrip("/") + "/" + path,
            timeout=(config.connect_timeout, config.read_timeout),
            retry=RetryPolicy(
                attempts=config.retries + 1, backoff_base=config.backoff_base, backoff_max=config.backoff_max
            ),
            pool_size=config.concurrency,
            **options,
        )

    def scrub(self, text: str) -> str:
        return scrub(text, secrets=self._secrets)

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        """Send with retries; return the last response whatever its status (callers map errors).

        Idempotent requests retry on connection errors, timeouts, 5xx and 429. Others (a create)
        retry only when the shop surely did not process them: no connection, 429 or 503.
        """
        url = self.base_url + path.lstrip("/")
        label = f"{method} /{urlsplit(url).path.lstrip('/')}"
        schedule = RetrySchedule(self.retry)
        attempts = schedule.total
        for attempt in schedule.attempts():
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=method == "GET",
                )
            except requests.RequestException as exc:
                not_sent = _not_sent(exc)
                delay = schedule.next_delay(attempt) if idempotent or not_sent else None
                cause = self.scrub(_describe(exc))
                if delay is not None:
                    logger.warning(
                        "%s failed (%s); retry %d/%d in %.2fs", label, cause, attempt, attempts - 1, delay
                    )
                    schedule.sleep(delay)
                    continue
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                if isinstance(exc, requests.ReadTimeout):
                    raise ShopTimeoutError(
                        f"{label}: no answer within {self.timeout[1]:g}s{tries}", maybe_applied=True
                    ) from None
                if isinstance(exc, requests.ConnectTimeout):
                    raise ShopConnectionError(
                        f"{label}: could not connect within {self.timeout[0]:g}s{tries}"
                    ) from None
                raise ShopConnectionError(
                    f"{label}: connection failed{tries}: {cause}", maybe_applied=not not_sent
                ) from None
            elapsed = (time.monotonic() - started) * 1000
            status = response.status_code
            logger.debug("%s -> %d in %.0f ms", label, status, elapsed)
            if 300 <= status < 400:
                location = self.scrub(response.headers.get("Location", "?"))
                raise ShopRequestError(
                    f"{label}: the shop redirected to {location}; set PRESTASHOP_URL to the final address",
                    status=status,
                )
            retryable = self._should_retry(response) and (idempotent or status in _NOT_PROCESSED_STATUSES)
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            delay = schedule.next_delay(attempt, retry_after=retry_after) if retryable else None
            if delay is not None:
                logger.warning("%s -> %d; retry %d/%d in %.2fs", label, status, attempt, attempts - 1, delay)
                response.close()
                schedule.sleep(delay)
                continue
            vars(response)[_ATTEMPTS] = attempt  # for the clients' error messages: response_attempts
            return response
        raise AssertionError("unreachable: the loop returns or raises")
