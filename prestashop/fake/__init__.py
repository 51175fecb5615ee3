"""A fake PrestaShop (Webservice and r_genesys) over real HTTP, for tests, benchmarks and the demo."""

from prestashop.fake.catalog import FakeProduct
from prestashop.fake.server import (
    DEFAULT_TEST_KEY,
    PHP_NOTICE,
    SERVER_ERROR_PAGE,
    FakeShop,
    LoggedRequest,
    running_fake_shop,
)

__all__ = [
    "DEFAULT_TEST_KEY",
    "PHP_NOTICE",
    "SERVER_ERROR_PAGE",
    "FakeProduct",
    "FakeShop",
    "LoggedRequest",
    "running_fake_shop",
]
