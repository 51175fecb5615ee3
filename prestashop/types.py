"""What Genesys exchanges with the shop, independent of the transport (Webservice or r_genesys).

The sync code depends only on ``ShopClient`` and these dataclasses, so a backend can be swapped by
configuration and tested against the fake shop without touching the callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable

from prestashop.errors import ShopConnectionError


@dataclass(frozen=True, slots=True)
class ShopLanguage:
    id: int
    iso_code: str
    name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class ShopCategory:
    """A shop category. ``is_root`` marks the tree's Root and the shop's home ("All products"),
    which never hold products; the r_genesys backend leaves them out altogether."""

    id: int
    parent_id: int
    name: str
    depth: int
    active: bool
    is_root: bool
    names: Mapping[int, str] = field(default_factory=dict, compare=False)  # language id -> name


@dataclass(frozen=True, slots=True)
class ShopManufacturer:
    id: int
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class ShopProductRef:
    id: int
    reference: str
    ean13: str
    active: bool


@dataclass(frozen=True, slots=True)
class ShopProductState:
    """Price (net), stock of the configured shop and active flag as the shop stores them."""

    id: int
    price: Decimal
    quantity: int
    active: bool
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ProductDraft:
    """A new shop product. It is always created disabled; activation is a later update.

    Texts are keyed by language ISO code (``pt``, ``en``); languages of the shop without a text
    get the text of the first key. ``gtin`` is the catalog's 14-digit GTIN: it is sent as ``ean13``
    only when it fits in 13 digits (a real GTIN-14 has no place in PrestaShop's field).
    """

    reference: str
    names: Mapping[str, str]
    price: Decimal  # net of tax
    id_category_default: int
    category_ids: Sequence[int] = ()
    gtin: str | None = None
    descriptions: Mapping[str, str] = field(default_factory=dict)
    short_descriptions: Mapping[str, str] = field(default_factory=dict)
    id_manufacturer: int | None = None
    weight: Decimal | None = None  # kg
    # Lets the r_genesys module answer a repeated create with the first product instead of a twin;
    # defaults to the reference there.
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ProductUpdate:
    """Absolute new values for an existing shop product; None leaves a value alone."""

    id_product: int
    price: Decimal | None = None  # net of tax
    quantity: int | None = None
    active: bool | None = None

    def __post_init__(self) -> None:
        if self.id_product <= 0:
            raise ValueError(f"id_product must be positive, got {self.id_product}")
        if self.price is None and self.quantity is None and self.active is None:
            raise ValueError(f"update of product {self.id_product} changes nothing")
        if self.price is not None and (not self.price.is_finite() or self.price < 0):
            raise ValueError(f"price of product {self.id_product} must be a non-negative number")
        if self.quantity is not None and self.quantity < 0:
            raise ValueError(f"quantity of product {self.id_product} must not be negative")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name in ("price", "quantity", "active") if getattr(self, name) is not None)


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """Outcome of one ``ProductUpdate``; ``applied`` lists the fields the shop accepted even when
    a later part of the same update failed."""

    id_product: int
    ok: bool
    applied: tuple[str, ...] = ()
    error: str = ""
    code: str = ""  # the shop's error code ("92", "product_not_found"); "" when ok
    status: int | None = None
    permanent: bool = False


@dataclass(frozen=True, slots=True)
class ShopCheck:
    """What ``check()`` found out; never raised, so a command can print every finding."""

    backend: str
    url: str
    reachable: bool
    authorized: bool
    version: str = ""
    languages: tuple[ShopLanguage, ...] = ()
    permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # resource -> methods
    missing: tuple[str, ...] = ()  # "products: POST" for every permission Genesys needs but lacks
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.reachable and self.authorized and not self.missing and not self.error

    @classmethod
    def failed(cls, *, backend: str, url: str, error: Exception) -> ShopCheck:
        """The outcome when the first request failed: "reachable" unless no connection was made."""
        reachable = not isinstance(error, ShopConnectionError)
        return cls(backend, url, reachable=reachable, authorized=False, error=str(error))


@runtime_checkable
class ShopClient(Protocol):
    backend: str

    def check(self) -> ShopCheck: ...

    def list_languages(self) -> list[ShopLanguage]: ...

    def list_categories(self) -> list[ShopCategory]: ...

    def list_manufacturers(self) -> list[ShopManufacturer]: ...

    def find_products(
        self, *, reference: str | None = None, ean13: str | None = None
    ) -> list[ShopProductRef]: ...

    def create_product(self, draft: ProductDraft) -> int: ...

    def update_products(self, updates: Sequence[ProductUpdate]) -> list[UpdateResult]: ...

    def get_product_state(self, id_product: int) -> ShopProductState | None: ...

    def close(self) -> None: ...

    def __enter__(self) -> ShopClient: ...

    def __exit__(self, *exc_info: object) -> None: ...
