"""The demo Nortech API: paged JSON behind a bearer token, read by the demo feed with no code."""

import json
import threading

import pytest
import requests
from django.conf import settings
from django.core.management import CommandError, call_command

from procurement.feeds.demo_server import demo_server_create
from procurement.feeds.source import FeedSource
from tests.support.feeds import read_all

TOKEN = "demo-token-123"


@pytest.fixture
def demo_api():
    server = demo_server_create(
        host="127.0.0.1",
        port=0,
        token=TOKEN,
        products_file=settings.BASE_DIR / "demo" / "feeds" / "nortech" / "products.json",
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_api_wants_the_bearer_token(demo_api):
    url = f"{demo_api}/nortech/api/products"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
    response = requests.get(
        url, params={"page": 3, "per_page": 10}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["page"], body["total"], len(body["data"]["products"])) == (3, 24, 4)


def test_bad_paging_and_unknown_paths(demo_api):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert (
        requests.get(f"{demo_api}/nortech/api/products?page=0", headers=headers, timeout=30).status_code
        == 400
    )
    assert (
        requests.get(f"{demo_api}/nortech/api/products?per_page=x", headers=headers, timeout=30).status_code
        == 400
    )
    assert requests.get(f"{demo_api}/elsewhere", headers=headers, timeout=30).status_code == 404


def test_the_demo_nortech_feed_reads_cleanly(demo_api, monkeypatch):
    monkeypatch.setenv("NORTECH_API_TOKEN", TOKEN)
    config = json.loads((settings.BASE_DIR / "demo" / "suppliers.json").read_text())
    feed = next(s for s in config["suppliers"] if s["name"] == "Nortech")["feeds"][0]
    source = FeedSource(
        url=feed["source_url"].replace("http://127.0.0.1:8082", demo_api),
        format=feed["format"],
        format_options=feed["format_options"],
        headers=feed["headers"],
        auth_type=feed["auth_type"],
        auth_settings=feed["auth_settings"],
        pagination=feed["pagination"],
    )
    result = read_all(source, feed["mapper"]["profile"])
    assert result.error is None and result.stats.completed
    assert len(result.rows) == 24 and result.rejections == []
    assert result.stats.pages_fetched == 3  # 10 + 10 + 4: the short page ends the feed
    assert [row.line for row in result.rows] == list(range(1, 25))
    row = result.row("NT-MTP03QL-A")
    assert row.gtin == "05600000010280"  # a JSON number in the feed
    assert str(row.price) == "749.0000"
    assert row.weight is not None and str(row.weight) == "0.190"
    assert row.meta == {"attributes.warranty_months": "36"}


def test_the_command_refuses_to_start_without_the_token(monkeypatch):
    monkeypatch.delenv("NORTECH_API_TOKEN", raising=False)
    with pytest.raises(CommandError, match="NORTECH_API_TOKEN is not set"):
        call_command("serve_demo_feeds", "--port", "0")


def test_the_server_refuses_an_empty_token():
    with pytest.raises(ValueError, match="non-empty bearer token"):
        demo_server_create(host="127.0.0.1", port=0, token="", products_file=settings.BASE_DIR / "x.json")
