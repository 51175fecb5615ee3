from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from prestashop.config import ShopConfig
from prestashop.fake import DEFAULT_TEST_KEY, FakeShop, running_fake_shop
from prestashop.r_genesys import RGenesysClient
from prestashop.types import ProductDraft
from prestashop.webservice import WebserviceClient

BACKENDS = ("webservice", "r_genesys")


@pytest.fixture
def fake_shop() -> Iterator[FakeShop]:
    """A fake shop (both contracts, PrestaShop 8.1.5) on a free port, state in memory."""
    with running_fake_shop() as shop:
        yield shop


@pytest.fixture
def shop_settings(settings, fake_shop):
    """Django settings pointing ``prestashop_client()`` at the fake shop (Webservice backend)."""
    settings.PRESTASHOP_URL = fake_shop.url
    settings.PRESTASHOP_API_KEY = DEFAULT_TEST_KEY
    settings.PRESTASHOP_BACKEND = "webservice"
    return settings


def make_config(shop: FakeShop, backend: str, **changes: Any) -> ShopConfig:
    """Fast settings for tests: tiny backoff and pages; timeouts generous enough for a busy
    machine (the tests of timeouts set their own)."""
    values: dict[str, Any] = {
        "url": shop.url,
        "api_key": DEFAULT_TEST_KEY,
        "backend": backend,
        "backoff_base": 0.001,
        "backoff_max": 0.01,
        "connect_timeout": 30.0,
        "read_timeout": 60.0,
        "page_size": 5,
    }
    values.update(changes)
    return ShopConfig(**values)


@pytest.fixture
def make_client(fake_shop: FakeShop) -> Iterator[Callable[..., WebserviceClient | RGenesysClient]]:
    """Build clients of either backend against ``fake_shop``; closed after the test."""
    clients: list[WebserviceClient | RGenesysClient] = []

    def build(backend: str, **changes: Any) -> WebserviceClient | RGenesysClient:
        config = make_config(fake_shop, backend, **changes)
        client = RGenesysClient(config=config) if backend == "r_genesys" else WebserviceClient(config=config)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def draft(**changes: Any) -> ProductDraft:
    values: dict[str, Any] = {
        "reference": "SKU-1",
        "names": {"pt": "Portátil Lenovo IdeaPad 15", "en": "Lenovo IdeaPad 15 laptop"},
        "price": Decimal("499.99"),
        "id_category_default": 4,
        "category_ids": (3,),
        "gtin": "04006381333931",
        "id_manufacturer": 6,
        "weight": Decimal("1.6"),
        "descriptions": {"pt": "<p>Ecrã 15,6&quot;</p>", "en": "<p>15.6 inch screen</p>"},
        "short_descriptions": {"pt": "Portátil leve", "en": "Light laptop"},
    }
    values.update(changes)
    return ProductDraft(**values)
