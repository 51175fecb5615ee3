"""Requests, responses and the shared, mutable settings of the fake shop's two applications."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field

ALL_METHODS = frozenset({"GET", "PUT", "PATCH", "POST", "DELETE", "HEAD"})
# resource -> methods the key may use; None for a key that may do everything.
Permissions = Mapping[str, frozenset[str]] | None


@dataclass(frozen=True, slots=True)
class FakeRequest:
    method: str
    path: str  # without the query string
    query: Mapping[str, str]  # the last value of each parameter
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def basic_user(self) -> str | None:
        """The Basic-auth user name (PrestaShop's key); None without a Basic header."""
        value = self.header("Authorization") or ""
        if not value.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0]


@dataclass(slots=True)
class FakeResponse:
    status: int
    body: bytes = b""
    content_type: str = "text/xml;charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class FakeShopSettings:
    """What tests may change while the shop runs (read on every request)."""

    keys: dict[str, Permissions]
    version: str = "8.1.5"
    shop_ids: tuple[int, ...] = (1,)
    shop_name: str = "Genesys Demo Shop"
    max_batch_size: int = 200
    webservice_enabled: bool = True

    @property
    def default_shop(self) -> int:
        return self.shop_ids[0]

    @property
    def supports_patch(self) -> bool:
        head = self.version.split(".", 1)[0]
        return head.isdigit() and int(head) >= 8
