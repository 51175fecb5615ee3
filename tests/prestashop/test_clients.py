"""The factory picks the backend from settings; both backends satisfy the ShopClient protocol."""

import pytest

from prestashop.clients import prestashop_client
from prestashop.config import ShopConfig
from prestashop.errors import ShopConfigError
from prestashop.fake import DEFAULT_TEST_KEY
from prestashop.r_genesys import RGenesysClient
from prestashop.types import ShopClient
from prestashop.webservice import WebserviceClient


@pytest.fixture
def shop_settings(settings, fake_shop):
    settings.PRESTASHOP_URL = fake_shop.url
    settings.PRESTASHOP_API_KEY = DEFAULT_TEST_KEY
    settings.PRESTASHOP_SHOP_ID = 1
    return settings


@pytest.mark.parametrize(
    ("backend", "client_class"), [("webservice", WebserviceClient), ("r_genesys", RGenesysClient)]
)
def test_the_factory_reads_the_backend_from_settings(shop_settings, backend, client_class):
    shop_settings.PRESTASHOP_BACKEND = backend
    shop_settings.PRESTASHOP_CONCURRENCY = 3
    with prestashop_client() as client:
        assert isinstance(client, client_class) and isinstance(client, ShopClient)
        assert client.config.concurrency == 3 and client.config.batch_size == 200
        assert client.check().ok


def test_overrides_and_explicit_configs(shop_settings):
    shop_settings.PRESTASHOP_BACKEND = "webservice"
    with prestashop_client(backend="r_genesys") as client:
        assert isinstance(client, RGenesysClient)
    config = ShopConfig(url="http://shop.example", api_key=DEFAULT_TEST_KEY, backend="r_genesys")
    with prestashop_client(config=config, backend="webservice", concurrency=2) as client:
        assert isinstance(client, WebserviceClient) and client.config.concurrency == 2


def test_missing_settings_are_a_config_error(settings):
    settings.PRESTASHOP_URL = ""
    with pytest.raises(ShopConfigError, match="PRESTASHOP_URL"):
        prestashop_client()


def test_the_key_stays_out_of_reprs():
    config = ShopConfig(url="http://shop.example", api_key=DEFAULT_TEST_KEY)
    assert DEFAULT_TEST_KEY not in repr(config) and DEFAULT_TEST_KEY not in str(config)
