"""Outbound-request policy: Genesys fetches operator-given URLs only from public addresses.

Feeds (and any future enrichment source) are URLs typed by staff; the web process runs the feed
preview and the workers run the ingest, both inside the operator's network. Without a policy a
URL can reach Redis on 127.0.0.1:6379, a database on a private address or the cloud metadata
service. So every request made through ``outbound_session()``:

- resolves the host once and refuses it when ANY address it resolves to is loopback, private,
  link-local, multicast, reserved, unspecified, shared (CGNAT) or a cloud metadata address, in
  IPv4 or IPv6 (IPv4-mapped, 6to4, Teredo and NAT64 addresses are judged by the IPv4 address they
  carry; integer, octal, hex and short host forms such as ``2130706433`` or ``0x7f.1`` are
  addresses too);
- connects to the vetted address itself (pinned), while the Host header, TLS SNI and the
  certificate check keep using the name, so a DNS answer that changes between the check and the
  connection (rebinding) cannot redirect it;
- is checked again on every redirect hop, since each hop is a request through the same adapter.

``OUTBOUND_ALLOW_HOSTS`` (settings, from the environment) lists the operator's own internal feed
hosts: exact names, ``.suffix`` names, addresses or networks (``10.20.0.0/16``); those pass. See
docs/security.md.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.poolmanager import SSL_KEYWORDS
from urllib3.util import connection as urllib3_connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Metadata services answer on these (AWS/GCP/Azure/OpenStack, AWS ECS, AWS IPv6, Alibaba, Oracle).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_SHORT_FORM = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
EXCERPT_CHARS = 120


def _allow_hint() -> str:
    return _("add it to OUTBOUND_ALLOW_HOSTS if it is your own feed host")


class OutboundRefused(Exception):
    """A URL the policy does not let Genesys fetch; the message names the host, never a secret."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """What may be fetched beyond public addresses: the operator's own hosts and networks."""

    allow_names: frozenset[str] = frozenset()
    allow_suffixes: tuple[str, ...] = ()
    allow_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> OutboundPolicy:
        """Parse ``OUTBOUND_ALLOW_HOSTS`` entries; raises ``ValueError`` naming a bad one."""
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith(".") and _is_host_name(entry[1:]):
                suffixes.append(entry)
            elif _is_host_name(entry):
                names.add(entry.rstrip("."))
            else:
                raise ValueError(f"{raw!r} is neither a host name, a .suffix, an address nor a network")
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def name_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.allow_names or any(host.endswith(s) for s in self.allow_suffixes)

    def address_allowed(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.allow_networks)


@dataclass(frozen=True, slots=True)
class OutboundTarget:
    """A vetted destination: connect to ``address``, speak to ``host``."""

    scheme: str
    host: str
    port: int
    address: str
    addresses: tuple[str, ...] = field(default_factory=tuple)


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` must not be fetched from, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_refusal(address.ipv4_mapped)  # the connection goes to that IPv4 host
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = address_refusal(embedded)
            if reason is not None:
                return reason
    if address in METADATA_ADDRESSES:
        return _("a cloud metadata address")
    if address.is_unspecified:
        return _("the unspecified address")
    if address.is_loopback:
        return _("a loopback address")
    if address.is_link_local:
        return _("a link-local address")
    if address.is_multicast:
        return _("a multicast address")
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return _("a shared (CGNAT) address")
    if address.is_reserved:
        return _("a reserved address")
    if address.is_private:
        return _("a private address")
    if not address.is_global:
        return _("not a public address")
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def host_literal_address(host: str) -> IPAddress | None:
    """The address a host string stands for when it is one, in any form a resolver accepts.

    ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``127.1`` all mean 127.0.0.1 to the C
    resolver, so they are addresses here too, not names.
    """
    bare = host.strip().strip("[]").rstrip(".")
    if "%" in bare:  # an IPv6 zone id (fe80::1%eth0)
        bare = bare.split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _IPV4_SHORT_FORM.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def host_resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the tests replace this with a resolver stub)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])  # always a str for the IPv4 and IPv6 families
        if address not in seen:
            seen.append(address)
    return seen


def url_target_vet(url: str, *, policy: OutboundPolicy) -> OutboundTarget:
    """Resolve ``url``'s host and check every address; raises ``OutboundRefused``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefused(_("the address is not a valid URL")) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        raise OutboundRefused(_("only http:// and https:// addresses with a host can be fetched"))
    port = port or (443 if scheme == "https" else 80)
    refusal = url_host_refusal(host, policy=policy)
    if refusal:
        raise OutboundRefused(refusal)
    literal = host_literal_address(host)
    if literal is not None:
        return OutboundTarget(scheme, host, port, str(literal), (str(literal),))
    try:
        resolved = host_resolve(host, port)
    except (OSError, UnicodeError):
        raise OutboundRefused(_("%(host)s: the host name cannot be resolved") % {"host": host}) from None
    if not resolved:
        raise OutboundRefused(_("%(host)s: the host name cannot be resolved") % {"host": host})
    trusted_name = policy.name_allowed(host)
    for text in resolved:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = None if trusted_name or policy.address_allowed(address) else address_refusal(address)
        if reason:
            raise OutboundRefused(
                _("%(host)s resolves to %(address)s, %(reason)s; %(hint)s")
                % {"host": host, "address": address, "reason": reason, "hint": _allow_hint()}
            )
    return OutboundTarget(scheme, host, port, resolved[0], tuple(resolved))


def url_host_refusal(host: str, *, policy: OutboundPolicy) -> str:
    """What can be said about ``host`` without DNS: a forbidden literal address or name ("" if none).

    Used on save (model validation) and before every request.
    """
    host = host.lower().strip().rstrip(".")
    if policy.name_allowed(host):
        return ""
    if host in METADATA_NAMES:
        return _("%(host)s is a cloud metadata service") % {"host": host}
    literal = host_literal_address(host)
    if host == "localhost" or host.endswith(".localhost"):
        literal = ipaddress.ip_address("127.0.0.1")
    if literal is None or policy.address_allowed(literal):
        return ""
    reason = address_refusal(literal)
    if reason is None:
        return ""
    if host.strip("[]") == str(literal):
        return _("%(host)s is %(reason)s; %(hint)s") % {"host": host, "reason": reason, "hint": _allow_hint()}
    return _("%(host)s is %(address)s, %(reason)s; %(hint)s") % {
        "host": host,
        "address": literal,
        "reason": reason,
        "hint": _allow_hint(),
    }


def text_excerpt(text: str | bytes, *, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable, one-line excerpt of what a remote server sent, for error messages."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text[: limit * 4])
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


# --- the pinned connection -------------------------------------------------------------------


class _PinnedMixin:
    """Open the socket to the vetted address; everything else (Host, SNI, cert) uses the name."""

    pinned_address: str
    on_socket: Callable[[socket.socket], None] | None = None

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.on_socket is not None and self.sock is not None:  # type: ignore[attr-defined]
            self.on_socket(self.sock)  # type: ignore[attr-defined]  # a kept-alive connection reused
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _new_conn(self) -> socket.socket:
        try:
            sock = urllib3_connection.create_connection(
                (self.pinned_address, self.port),  # type: ignore[attr-defined]
                self.timeout,  # type: ignore[attr-defined]
                source_address=self.source_address,  # type: ignore[attr-defined]
                socket_options=self.socket_options,  # type: ignore[attr-defined]
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                self,
                f"Connection to {self.host} timed out. (connect timeout={self.timeout})",  # type: ignore[attr-defined]
            ) from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]
        sys.audit("http.client.connect", self, self.host, self.port)  # type: ignore[attr-defined]
        if self.on_socket is not None:
            self.on_socket(sock)  # before any TLS handshake: the caller may cut it short
        return sock


class _PinnedHTTPConnection(_PinnedMixin, HTTPConnection):
    def __init__(
        self,
        *args: Any,
        pinned_address: str,
        on_socket: Callable[[socket.socket], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_address = pinned_address
        self.on_socket = on_socket


class _PinnedHTTPSConnection(_PinnedMixin, HTTPSConnection):
    def __init__(
        self,
        *args: Any,
        pinned_address: str,
        on_socket: Callable[[socket.socket], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_address = pinned_address
        self.on_socket = on_socket


class _PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    """A requests adapter that vets every request's host and connects to the vetted address."""

    def __init__(
        self,
        *,
        policy: OutboundPolicy,
        on_vetted: Callable[[OutboundTarget], None] | None = None,
        on_socket: Callable[[socket.socket], None] | None = None,
    ) -> None:
        super().__init__(max_retries=0)
        self.policy = policy
        self.on_vetted = on_vetted
        self.on_socket = on_socket
        self._pools: dict[tuple[Any, ...], HTTPConnectionPool] = {}

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> HTTPConnectionPool:
        target = url_target_vet(request.url or "", policy=self.policy)
        if self.on_vetted is not None:
            self.on_vetted(target)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        if target.scheme == "http":
            pool_kwargs = {k: v for k, v in pool_kwargs.items() if k not in SSL_KEYWORDS}
        key = (
            target.scheme,
            target.host,
            target.port,
            target.address,
            tuple(sorted((k, repr(v)) for k, v in pool_kwargs.items())),
        )
        pool = self._pools.get(key)
        if pool is None:
            pool_class = _PinnedHTTPSConnectionPool if target.scheme == "https" else _PinnedHTTPConnectionPool
            pool = pool_class(
                host=host_params["host"],
                port=target.port,
                maxsize=1,
                pinned_address=target.address,
                on_socket=self.on_socket,
                **pool_kwargs,
            )
            self._pools[key] = pool
        return pool

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        super().close()


def outbound_policy() -> OutboundPolicy:
    """The policy from settings (``OUTBOUND_ALLOW_HOSTS``)."""
    from django.conf import settings

    return OutboundPolicy.from_entries(getattr(settings, "OUTBOUND_ALLOW_HOSTS", ()))


def outbound_session(
    *,
    policy: OutboundPolicy | None = None,
    on_vetted: Callable[[OutboundTarget], None] | None = None,
    on_socket: Callable[[socket.socket], None] | None = None,
) -> requests.Session:
    """A ``requests.Session`` whose every request goes through the policy and the pinned adapter.

    Proxies from the environment are ignored: a proxy would resolve the name itself and defeat
    the pinning. ``on_socket`` sees each connection's socket when it opens and whenever it is
    reused (the feed reader's deadline shuts it down when the download's time is up).
    """
    session = requests.Session()
    session.trust_env = False
    adapter = PinnedAdapter(
        policy=policy if policy is not None else outbound_policy(), on_vetted=on_vetted, on_socket=on_socket
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _is_host_name(value: str) -> bool:
    labels = value.rstrip(".").split(".")
    return bool(labels) and all(re.fullmatch(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?", lab) for lab in labels)
