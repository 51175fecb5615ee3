"""Timeouts, retries and secrecy of the HTTP layer, over real HTTP against the fake shop."""

import logging
import socket
import traceback
from decimal import Decimal

import pytest

from genesys.http import RetryPolicy
from prestashop.errors import (
    ShopAuthError,
    ShopConnectionError,
    ShopRequestError,
    ShopResponseError,
    ShopServerError,
    ShopTimeoutError,
)
from prestashop.fake import DEFAULT_TEST_KEY, PHP_NOTICE, FakeShop
from prestashop.transport import scrub, strip_userinfo
from prestashop.types import ProductUpdate
from tests.prestashop.conftest import BACKENDS, draft, make_config

both_backends = pytest.mark.parametrize("backend", BACKENDS)


def ws_requests(shop: FakeShop, path: str) -> list[str]:
    return [f"{r.method} {r.status}" for r in shop.requests if r.path.endswith(path)]


@both_backends
def test_retries_injected_500s_then_succeeds(make_client, fake_shop, backend):
    client = make_client(backend, retries=3)
    fake_shop.add_fault(times=2)
    assert len(client.list_manufacturers()) == 22
    statuses = [r.status for r in fake_shop.requests]
    assert statuses[:3] == [500, 500, 200]


@both_backends
def test_gives_up_after_the_bound_with_a_transient_error(make_client, fake_shop, backend):
    client = make_client(backend, retries=2)
    fake_shop.fail_rate = 1.0
    with pytest.raises((ShopServerError, ShopResponseError)) as caught:
        client.list_languages()
    assert not caught.value.permanent
    assert caught.value.status == 500
    assert "after 3 attempts" in str(caught.value)
    assert len(fake_shop.requests) == 3


@both_backends
def test_4xx_is_permanent_and_not_retried(make_client, fake_shop, backend):
    client = make_client(backend, retries=3)
    fake_shop.add_fault(status=400, body=b"bad request", content_type="text/plain", times=5)
    with pytest.raises(ShopRequestError) as caught:
        client.list_languages()
    assert caught.value.permanent and caught.value.status == 400
    assert len(fake_shop.requests) == 1


@both_backends
def test_a_429_is_retried_and_honours_retry_after_within_the_bound(make_client, fake_shop, backend):
    client = make_client(backend, retries=1)
    fake_shop.add_fault(status=429, body=b"slow down", content_type="text/plain")
    assert client.list_languages()
    assert [r.status for r in fake_shop.requests][:2] == [429, 200]


@both_backends
def test_read_timeout_is_a_transient_timeout_error(make_client, fake_shop, backend):
    client = make_client(backend, retries=1, read_timeout=0.1)
    fake_shop.latency_ms = 400
    with pytest.raises(ShopTimeoutError) as caught:
        client.list_languages()
    assert not caught.value.permanent
    assert "no answer within 0.1s after 2 attempts" in str(caught.value)


@both_backends
def test_connection_refused_is_a_transient_connection_error(backend):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from prestashop.clients import prestashop_client
    from prestashop.config import ShopConfig

    config = ShopConfig(
        url=f"http://127.0.0.1:{port}",
        api_key=DEFAULT_TEST_KEY,
        backend=backend,
        retries=1,
        backoff_base=0.001,
    )
    with prestashop_client(config=config) as client, pytest.raises(ShopConnectionError) as caught:
        client.list_languages()
    assert not caught.value.permanent and not caught.value.maybe_applied


@both_backends
def test_html_and_php_notice_responses_are_clear_errors(make_client, fake_shop, backend):
    client = make_client(backend, retries=0)
    fake_shop.add_fault(status=200, body=b"<html><body>Maintenance</body></html>", content_type="text/html")
    with pytest.raises(ShopResponseError, match="an HTML page"):
        client.list_languages()
    fake_shop.add_fault(body=PHP_NOTICE, prepend=True)
    with pytest.raises(ShopResponseError, match="PHP notices"):
        client.list_languages()


@both_backends
def test_credentials_never_reach_messages_or_logs(make_client, fake_shop, backend, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "S3CRETS3CRETS3CRETS3CRETS3CRET00"
    fake_shop.grant(secret, None)
    client = make_client(backend, api_key=secret, retries=1, read_timeout=0.2)
    assert secret not in repr(client.config)
    errors = []
    fake_shop.fail_rate = 1.0
    with pytest.raises(ShopServerError) as caught:
        client.list_categories()
    errors.append(caught.value)
    fake_shop.fail_rate = 0.0
    fake_shop.add_fault(
        status=500, body=f"<html>echoed ws_key={secret} and {secret}</html>".encode(), times=2
    )
    with pytest.raises(ShopServerError) as caught:
        client.list_manufacturers()
    errors.append(caught.value)
    fake_shop.latency_ms = 400
    with pytest.raises(ShopTimeoutError) as caught:
        client.find_products(reference="SKU-1")
    errors.append(caught.value)
    fake_shop.latency_ms = 0
    results = client.update_products([ProductUpdate(987654, price=Decimal(1))])
    assert not results[0].ok
    fake_shop.settings.keys.pop(secret)
    with pytest.raises(ShopAuthError) as caught:
        client.create_product(draft())
    errors.append(caught.value)
    for error in errors:
        text = "".join(traceback.format_exception(error))
        assert secret not in text and secret not in repr(error)
    assert "***" in str(errors[1])
    assert secret not in results[0].error
    assert secret not in caplog.text
    assert "retry" in caplog.text  # the retries were logged, without the key


def test_scrub_and_userinfo():
    assert scrub("GET /api/products?ws_key=ABC&display=full") == "GET /api/products?ws_key=***&display=full"
    assert scrub("https://key:@shop.example/api/") == "https://***@shop.example/api/"
    assert scrub("token KEY123 leaked", secrets=["KEY123"]) == "token *** leaked"
    assert strip_userinfo("https://key:@shop.example/api/") == "https://shop.example/api/"


def test_backoff_is_exponential_jittered_and_capped():
    policy = RetryPolicy(attempts=5, backoff_base=1.0, backoff_max=4.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0)):
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
    assert policy.delay(1, retry_after=3) == 3
    assert policy.delay(1, retry_after=60) == 4.0


def test_config_errors_name_the_setting():
    from prestashop.config import ShopConfig
    from prestashop.errors import ShopConfigError

    with pytest.raises(ShopConfigError, match="PRESTASHOP_URL"):
        ShopConfig(url="", api_key="k")
    with pytest.raises(ShopConfigError, match="PRESTASHOP_API_KEY"):
        ShopConfig(url="http://shop", api_key="")
    with pytest.raises(ShopConfigError, match="backend"):
        ShopConfig(url="http://shop", api_key="k", backend="soap")


@both_backends
def test_uses_one_pooled_connection_per_worker(make_client, fake_shop, backend):
    client = make_client(backend)
    adapter = client.http.session.get_adapter(fake_shop.url)
    assert adapter._pool_maxsize == client.config.concurrency
    assert make_config(fake_shop, backend).concurrency == 8
