"""Fetch one page of a feed into a temporary file: HTTP with limits, or a file under FEEDS_ROOT.

HTTP goes through the outbound-request policy (genesys/outbound.py: public addresses only, the
resolved address pinned, every redirect hop checked again). Connect and read timeouts, a
wall-clock limit per page (retries and redirects included) enforced while reading, bounded retries
with exponential backoff on connection errors, timeouts, 5xx and 429 (never on other 4xx: retrying
a 401 only gets an account locked), redirects followed by hand so a redirect loop is named and
credentials are never sent to another origin, and a size limit enforced while streaming. The body
is spooled to a ``SpooledTemporaryFile`` (small bodies stay in memory, big ones go to disk), so
memory stays flat.

The wall-clock limit cannot rely on the read timeout (a server trickling one byte every few
seconds never trips it) nor on a check between chunks (a 64 KB chunk then takes hours): a timer
shuts the connection's socket down when the limit passes, so the read blocked in ``recv`` returns
at once, in the connection, the headers or the body alike, and the download fails naming the limit.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3
from django.utils.translation import gettext as _

from genesys.http import RetryPolicy, RetrySchedule, retry_after_seconds
from genesys.outbound import OutboundRefused, outbound_session, text_excerpt
from procurement.feeds.auth import Credentials
from procurement.feeds.errors import FeedReadError
from procurement.feeds.options import HttpSettings
from procurement.feeds.source_url import FeedPathError, feed_path_message, feeds_root_path_resolve

logger = logging.getLogger("procurement.feeds")

SPOOL_MEMORY_BYTES = 1024 * 1024  # bodies up to 1 MB stay in memory; bigger ones roll over to disk
CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 10
MAX_BACKOFF_SECONDS = 60.0
USER_AGENT = "Genesys feed reader"
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@dataclass
class Page:
    """A downloaded page. ``file`` is positioned at 0 and owned by the caller (close it)."""

    file: IO[bytes]
    url: str  # the final URL, without our credential parameters (for relative next links)
    headers: Mapping[str, str] = field(default_factory=dict)
    size: int = 0  # bytes of the body after Content-Encoding was undone
    wire_bytes: int = 0  # bytes received
    digest: str = ""  # sha256 of the body, to notice a server that repeats the same page


@dataclass(frozen=True, slots=True)
class ReadLimit:
    """A wall-clock limit over a whole read (the admin preview), on top of each page's own."""

    at: float  # a time.monotonic() value
    seconds: float
    setting: str  # what the message names, e.g. "FEED_PREVIEW_MAX_SECONDS"

    @classmethod
    def after(cls, *, seconds: float, setting: str) -> ReadLimit:
        return cls(at=time.monotonic() + seconds, seconds=seconds, setting=setting)


class _Deadline:
    """The wall-clock limit of one page download, enforced while reading (see the module docstring).

    The connections opened or reused during the download register their socket; when the time is
    up a timer thread shuts them down, which wakes any blocked read with an end of file or an
    error. Whatever the read then returns, ``expired`` tells the download it was the deadline.
    """

    def __init__(self, *, at: float, seconds: float, setting: str) -> None:
        self.at = at
        self.seconds = seconds
        self.setting = setting
        self.expired = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(at - time.monotonic(), 0.0), self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if not self.expired.is_set():
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def message(self, url: str) -> str:
        return _("%(url)s: the download took longer than %(seconds)s s (%(setting)s).") % {
            "url": url,
            "seconds": f"{self.seconds:g}",
            "setting": self.setting,
        }

    def _expire(self) -> None:
        with self._lock:
            self.expired.set()
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    @contextmanager
    def running(self) -> Iterator[_Deadline]:
        token = _DEADLINE.set(self)
        self._timer.start()
        try:
            yield self
        finally:
            self._timer.cancel()
            _DEADLINE.reset(token)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed already


# The deadline of the download running in this thread, for the connections it uses.
_DEADLINE: ContextVar[_Deadline | None] = ContextVar("feed_download_deadline", default=None)


def _deadline_watch(sock: socket.socket | None) -> None:
    deadline = _DEADLINE.get()
    if deadline is not None:
        deadline.watch(sock)


def feed_session() -> requests.Session:
    """The HTTP session of a feed read: every request vetted and pinned by the outbound policy
    (genesys/outbound.py), and every connection's socket watched by the running download's
    deadline."""
    return outbound_session(on_socket=_deadline_watch)


class _Retryable(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def file_page_open(*, url: str, root: Path, max_bytes: int) -> Page:
    """Open ``file:relative/path`` under ``root``; anything that leaves ``root`` is refused."""
    relative = url[len("file:") :].strip()
    shown = f"file:{relative}"
    try:
        path = feeds_root_path_resolve(relative=relative, root=root, must_exist=True)
    except FileNotFoundError:
        raise FeedReadError(
            _("%(source)s: no such file under FEEDS_ROOT.") % {"source": shown}, phase="download"
        ) from None
    except FeedPathError as exc:
        raise FeedReadError(feed_path_message(shown, exc), phase="download") from None
    if not path.is_file():
        raise FeedReadError(_("%(source)s: not a regular file.") % {"source": shown}, phase="download")
    size = path.stat().st_size
    if size > max_bytes:
        raise FeedReadError(_size_message(shown, max_bytes), phase="download")
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise FeedReadError(
            _("%(source)s: cannot be opened (%(reason)s).") % {"source": shown, "reason": exc.strerror},
            phase="download",
        ) from None
    return Page(file=handle, url=shown, size=size, wire_bytes=size)


def http_page_download(
    *,
    session: requests.Session,
    url: str,
    credentials: Credentials,
    headers: Mapping[str, str],
    http: HttpSettings,
    limit: ReadLimit | None = None,
) -> Page:
    """GET ``url`` with retries, within ``http.max_seconds`` (or ``limit``, when sooner) for
    everything; returns the spooled body or raises ``FeedReadError``."""
    started = time.monotonic()
    if limit is not None and limit.at < started + http.max_seconds:
        deadline = _Deadline(at=limit.at, seconds=limit.seconds, setting=limit.setting)
    else:
        deadline = _Deadline(
            at=started + http.max_seconds, seconds=http.max_seconds, setting="format_options.max_seconds"
        )
    with deadline.running():
        return _download_attempts(
            session=session, url=url, credentials=credentials, headers=headers, http=http, deadline=deadline
        )


def _download_attempts(
    *,
    session: requests.Session,
    url: str,
    credentials: Credentials,
    headers: Mapping[str, str],
    http: HttpSettings,
    deadline: _Deadline,
) -> Page:
    redactor = credentials.redactor
    schedule = RetrySchedule(
        RetryPolicy(
            attempts=http.retries + 1,
            backoff_base=http.retry_backoff,
            backoff_max=MAX_BACKOFF_SECONDS,
            jitter=(0.9, 1.1),  # feeds of one supplier don't retry in lockstep
        ),
        remaining=deadline.remaining,
    )
    for attempt in schedule.attempts():
        if deadline.remaining() <= 0:
            raise FeedReadError(deadline.message(redactor.url(url)), phase="download")
        try:
            return _download_once(
                session=session,
                url=url,
                credentials=credentials,
                headers=headers,
                http=http,
                deadline=deadline,
            )
        except _Retryable as exc:
            delay = schedule.next_delay(attempt, retry_after=exc.retry_after)
            if delay is None:
                raise FeedReadError(
                    _("%(problem)s (gave up after %(count)s attempts).")
                    % {"problem": exc.message, "count": schedule.total},
                    phase="download",
                ) from None
            logger.warning(
                "%s; retrying in %.1f s (attempt %d of %d)",
                redactor.text(exc.message),
                delay,
                attempt,
                schedule.total,
            )
            schedule.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def url_with_params(url: str, params: Mapping[str, str | int]) -> str:
    """``url`` with ``params`` set in its query string (replacing any existing value)."""
    if not params:
        return url
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    pairs.extend((k, str(v)) for k, v in params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


def url_without_params(url: str, names: set[str] | frozenset[str]) -> str:
    if not names:
        return url
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _download_once(
    *,
    session: requests.Session,
    url: str,
    credentials: Credentials,
    headers: Mapping[str, str],
    http: HttpSettings,
    deadline: _Deadline,
) -> Page:
    redactor = credentials.redactor
    origin = _origin(url)
    visited = [url]
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        # Credentials go only to the origin the feed names; a redirect elsewhere (another host,
        # or https -> http) gets the request without them.
        trusted = _origin(current) == origin
        request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", **headers}
        if trusted:
            request_headers.update(credentials.headers)
        target = url_with_params(current, credentials.params) if trusted else current
        # Each socket read waits at most the read timeout, and never past the deadline.
        left = max(deadline.remaining(), 0.001)
        try:
            response = session.get(
                target,
                headers=request_headers,
                auth=credentials.basic if trusted else None,
                timeout=(min(http.connect_timeout, left), min(http.read_timeout, left)),
                stream=True,
                allow_redirects=False,
            )
        except OutboundRefused as exc:
            # Checked before connecting, on the first request and on every redirect hop.
            raise FeedReadError(
                _("%(url)s: refused by the outbound-request policy: %(reason)s.")
                % {"url": redactor.url(current), "reason": exc.message},
                phase="download",
            ) from None
        except requests.RequestException as exc:
            if deadline.expired.is_set() or deadline.remaining() <= 0:
                raise FeedReadError(deadline.message(redactor.url(current)), phase="download") from None
            raise _classify(exc, url=redactor.url(current), http=http) from None
        with response:
            if response.status_code in _REDIRECT_STATUSES:
                location = response.headers.get("Location", "").strip()
                if not location:
                    raise FeedReadError(
                        _("HTTP %(status)s from %(url)s without a Location header.")
                        % {"status": response.status_code, "url": redactor.url(current)},
                        phase="download",
                    )
                following = urljoin(current, location)
                if urlsplit(following).scheme.lower() not in ("http", "https"):
                    raise FeedReadError(
                        _("%(url)s redirects to a non-HTTP address; refused.")
                        % {"url": redactor.url(current)},
                        phase="download",
                    )
                if following in visited:
                    chain = " → ".join(redactor.url(u) for u in [*visited, following])
                    raise FeedReadError(_("Redirect loop: %(chain)s.") % {"chain": chain}, phase="download")
                visited.append(following)
                current = following
                continue
            _raise_for_status(response, url=redactor.url(current), credentials=credentials)
            body = _body_spool(response, url=redactor.url(current), http=http, deadline=deadline)
            body.url = url_without_params(current, set(credentials.params)) if trusted else current
            return body
    raise FeedReadError(
        _("More than %(count)s redirects from %(url)s.") % {"count": MAX_REDIRECTS, "url": redactor.url(url)},
        phase="download",
    )


def _raise_for_status(response: requests.Response, *, url: str, credentials: Credentials) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = text_excerpt(response.reason or "", limit=60)  # the server's words: short and printable
    shown = f"HTTP {status} {reason}".strip()
    if status == 429 or status >= 500:
        raise _Retryable(
            _("%(status)s from %(url)s") % {"status": shown, "url": url},
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        hint = (
            _("the server refused the credentials; check the environment variables the feed names")
            if credentials.headers or credentials.params or credentials.basic
            else _("the server wants credentials; set the feed's authentication")
        )
        message = _("%(status)s from %(url)s: %(hint)s.") % {"status": shown, "url": url, "hint": hint}
    elif status == 404:
        message = _("%(status)s from %(url)s: the address does not exist (any more).") % {
            "status": shown,
            "url": url,
        }
    else:
        message = _("%(status)s from %(url)s.") % {"status": shown, "url": url}
    raise FeedReadError(message, phase="download")


def _body_spool(response: requests.Response, *, url: str, http: HttpSettings, deadline: _Deadline) -> Page:
    declared = response.headers.get("Content-Length", "")
    encoded = bool(response.headers.get("Content-Encoding"))
    if declared.isdigit() and not encoded and int(declared) > http.max_bytes:
        raise FeedReadError(_size_message(url, http.max_bytes), phase="download")
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > http.max_bytes:
                raise FeedReadError(_size_message(url, http.max_bytes), phase="download")
            if deadline.expired.is_set():
                raise FeedReadError(deadline.message(url), phase="download")
            digest.update(chunk)
            spool.write(chunk)
        if deadline.expired.is_set():  # the shut-down socket looked like the end of the body
            raise FeedReadError(deadline.message(url), phase="download")
    except requests.exceptions.ContentDecodingError:
        spool.close()
        if deadline.expired.is_set():
            raise FeedReadError(deadline.message(url), phase="download") from None
        raise FeedReadError(
            _("%(url)s: the body cannot be decompressed (Content-Encoding %(encoding)s); it is damaged.")
            % {"url": url, "encoding": response.headers.get("Content-Encoding", "?")},
            phase="download",
        ) from None
    except requests.RequestException as exc:
        spool.close()
        if deadline.expired.is_set():
            raise FeedReadError(deadline.message(url), phase="download") from None
        raise _classify(exc, url=url, http=http, during_body=True) from None
    except BaseException:
        spool.close()
        raise
    wire = response.raw.tell() if isinstance(response.raw, urllib3.HTTPResponse) else size
    spool.seek(0)
    return Page(
        file=spool,
        url=url,
        headers=response.headers,
        size=size,
        wire_bytes=wire or size,
        digest=digest.hexdigest(),
    )


def _size_message(source: str, max_bytes: int) -> str:
    return _(
        "%(source)s is larger than the limit of %(limit)s (format_options.max_bytes); "
        "the download was stopped."
    ) % {"source": source, "limit": bytes_format(max_bytes)}


def bytes_format(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MB"
    if count >= 1024:
        return f"{count / 1024:g} KB"
    return f"{count} bytes"


def _classify(
    exc: requests.RequestException, *, url: str, http: HttpSettings, during_body: bool = False
) -> Exception:
    """Turn a ``requests`` exception into our own, with a reason and no URL from the exception.

    ``requests`` messages embed the full URL, query string included, so they are never shown.
    """
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return FeedReadError(_("%(url)s is not a valid URL.") % {"url": url}, phase="download")
    if isinstance(exc, requests.exceptions.InvalidSchema):
        return FeedReadError(
            _("%(url)s: only http://, https:// and file: sources are supported.") % {"url": url},
            phase="download",
        )
    causes = _causes(exc)
    if any(isinstance(c, ssl.SSLError | urllib3.exceptions.SSLError) for c in causes):
        return FeedReadError(
            _("%(url)s: the TLS connection failed (certificate or protocol problem).") % {"url": url},
            phase="download",
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _Retryable(
            _("%(url)s: no connection within %(seconds)s s")
            % {"url": url, "seconds": f"{http.connect_timeout:g}"}
        )
    if isinstance(exc, requests.exceptions.ReadTimeout) or any(
        isinstance(c, urllib3.exceptions.ReadTimeoutError | TimeoutError | socket.timeout) for c in causes
    ):
        what = _("stopped sending data") if during_body else _("did not answer")
        return _Retryable(
            _("%(url)s %(what)s for %(seconds)s s (timeout)")
            % {"url": url, "what": what, "seconds": f"{http.read_timeout:g}"}
        )
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return _Retryable(_("%(url)s: connection refused") % {"url": url})
    if any(isinstance(c, socket.gaierror) for c in causes):
        return _Retryable(_("%(url)s: the host name cannot be resolved") % {"url": url})
    if during_body or isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return _Retryable(_("%(url)s: the connection broke during the download") % {"url": url})
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = next(
            (errno.errorcode.get(c.errno, "") for c in causes if isinstance(c, OSError) and c.errno), ""
        )
        return _Retryable(
            _("%(url)s: the connection failed%(reason)s")
            % {"url": url, "reason": f" ({reason})" if reason else ""}
        )
    return FeedReadError(
        _("%(url)s: the request failed (%(kind)s).") % {"url": url, "kind": type(exc).__name__},
        phase="download",
    )


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (args, ``reason``, cause and context chains)."""
    seen: list[BaseException] = []
    stack: list[object] = [exc]
    while stack and len(seen) < 20:
        current = stack.pop()
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        stack.extend(
            [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        )
    return seen
