"""Client configuration: explicit for tests and benchmarks, or read from Django settings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from prestashop.errors import ShopConfigError

BACKENDS = ("webservice", "r_genesys")


@dataclass(frozen=True, slots=True)
class ShopConfig:
    url: str
    api_key: str = field(repr=False)  # never in repr, logs or messages
    backend: str = "webservice"
    shop_id: int = 1
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 3  # extra attempts after the first
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    concurrency: int = 8  # parallel requests of one update_products call
    batch_size: int = 200  # r_genesys items per request
    page_size: int = 500  # Webservice list pages
    tax_rules_group_id: int = 1

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ShopConfigError(f"unknown shop backend {self.backend!r}; use one of {', '.join(BACKENDS)}")
        if not self.url:
            raise ShopConfigError("PRESTASHOP_URL is not set; it is the shop's base address")
        if not self.api_key:
            raise ShopConfigError("PRESTASHOP_API_KEY is not set; create a Webservice key in the shop")
        for name in ("shop_id", "concurrency", "batch_size", "page_size"):
            if getattr(self, name) < 1:
                raise ShopConfigError(f"{name} must be at least 1")
        if self.retries < 0 or self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ShopConfigError("retries must be >= 0 and timeouts > 0")

    @classmethod
    def from_settings(cls, **overrides: Any) -> ShopConfig:
        """Read ``PRESTASHOP_*`` settings; keyword arguments override single values."""
        from django.conf import settings

        values: dict[str, Any] = {
            "url": settings.PRESTASHOP_URL,
            "api_key": settings.PRESTASHOP_API_KEY,
            "backend": settings.PRESTASHOP_BACKEND,
            "shop_id": settings.PRESTASHOP_SHOP_ID,
            "connect_timeout": float(settings.PRESTASHOP_CONNECT_TIMEOUT),
            "read_timeout": float(settings.PRESTASHOP_READ_TIMEOUT),
            "retries": settings.PRESTASHOP_RETRIES,
            "concurrency": settings.PRESTASHOP_CONCURRENCY,
            "batch_size": settings.PRESTASHOP_BATCH_SIZE,
            "tax_rules_group_id": settings.PRESTASHOP_TAX_RULES_GROUP_ID,
        }
        values.update(overrides)
        return cls(**values)

    def with_changes(self, **changes: Any) -> ShopConfig:
        return replace(self, **changes)
