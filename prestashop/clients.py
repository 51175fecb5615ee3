"""The one entry point callers use: ``prestashop_client()`` picks the backend from settings."""

from __future__ import annotations

from typing import Any

from prestashop.config import ShopConfig
from prestashop.r_genesys import RGenesysClient
from prestashop.types import ShopClient
from prestashop.webservice import WebserviceClient


def prestashop_client(*, config: ShopConfig | None = None, **overrides: Any) -> ShopClient:
    """A client for ``PRESTASHOP_BACKEND`` (or ``config.backend``); close it when done.

    ``overrides`` replace single settings (``backend="r_genesys"``, ``concurrency=4``).
    """
    if config is None:
        config = ShopConfig.from_settings(**overrides)
    elif overrides:
        config = config.with_changes(**overrides)
    if config.backend == "r_genesys":
        return RGenesysClient(config=config)
    return WebserviceClient(config=config)
