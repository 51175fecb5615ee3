"""The r_genesys contract (docs/r_genesys.md) end to end: client and fake module over real HTTP."""

import json
from decimal import Decimal

import pytest
import requests

from prestashop.errors import ShopNotFoundError, ShopRequestError, ShopResponseError
from prestashop.fake import DEFAULT_TEST_KEY, running_fake_shop
from prestashop.r_genesys import RGenesysClient
from prestashop.types import ProductUpdate
from tests.prestashop.conftest import draft, make_config

HEADERS = {"X-Genesys-Key": DEFAULT_TEST_KEY}
JSON_HEADERS = {**HEADERS, "Content-Type": "application/json"}


def posts(shop, action):
    return [
        json.loads(r.body) for r in shop.requests if r.path == f"/r_genesys/{action}" and r.method == "POST"
    ]


def test_check_reports_the_module(make_client):
    result = make_client("r_genesys").check()
    assert result.ok, result.error
    assert result.version == "8.1.5"
    assert result.permissions["updateproducts"] == ("POST",)
    assert [lang.iso_code for lang in result.languages] == ["pt", "en"]


def test_categories_leave_out_root_and_home_and_are_paged(make_client, fake_shop):
    categories = make_client("r_genesys", page_size=5).list_categories()
    assert len(categories) == 32
    assert {1, 2}.isdisjoint(c.id for c in categories)
    assert not any(c.is_root for c in categories)
    assert "Todos os produtos" not in {c.name for c in categories}
    top = next(c for c in categories if c.id == 3)
    assert (top.parent_id, top.depth, top.names) == (2, 2, {1: "Informática", 2: "Computers"})
    offsets = [r.query["offset"] for r in fake_shop.requests if r.path == "/r_genesys/getcategories"]
    assert offsets == ["0", "5", "10", "15", "20", "25", "30"]


def test_brands_and_languages(make_client):
    client = make_client("r_genesys", page_size=10)
    brands = client.list_manufacturers()
    assert len(brands) == 22 and {"Samsung", "Bosch", "Xiaomi"} <= {b.name for b in brands}
    assert [(lang.id, lang.iso_code) for lang in client.list_languages()] == [(1, "pt"), (2, "en")]


def test_create_is_disabled_and_idempotent(make_client, fake_shop):
    client = make_client("r_genesys")
    first = client.create_product(draft(gtin="14006381333938", idempotency_key="genesys:product:7"))
    again = client.create_product(draft(gtin="14006381333938", idempotency_key="genesys:product:7"))
    assert first == again
    [product] = fake_shop.products()
    assert product.active is False and product.state == "1" and product.ean13 == ""
    assert (
        product.price == Decimal("499.99") and product.category_ids == (4, 3) and product.id_manufacturer == 6
    )
    assert product.names == {1: "Portátil Lenovo IdeaPad 15", 2: "Lenovo IdeaPad 15 laptop"}
    [item] = posts(fake_shop, "createproducts")[0]["items"]
    assert item["ean13"] is None and item["price"] == "499.990000" and item["key"] == "genesys:product:7"


def test_create_errors_are_per_item_and_permanent(make_client, fake_shop):
    client = make_client("r_genesys")
    with pytest.raises(ShopRequestError) as caught:
        client.create_product(draft(id_category_default=9999))
    assert caught.value.code == "category_not_found" and caught.value.permanent
    with pytest.raises(ShopRequestError, match="manufacturer_not_found"):
        client.create_product(draft(id_manufacturer=9999))
    assert fake_shop.products() == []


def test_updates_are_batched_with_per_item_results(make_client, fake_shop):
    ids = [fake_shop.add_product(reference=f"R{i}", price="1") for i in range(9)]
    client = make_client("r_genesys", batch_size=4)
    updates = [ProductUpdate(i, price=Decimal("2.5"), quantity=3, active=True) for i in ids]
    updates.insert(2, ProductUpdate(999_999, quantity=1))
    results = client.update_products(updates)
    assert [r.id_product for r in results] == [u.id_product for u in updates]
    assert sorted(len(body["items"]) for body in posts(fake_shop, "updateproducts")) == [2, 4, 4]
    missing = results[2]
    assert (missing.ok, missing.code, missing.permanent) == (False, "product_not_found", True)
    assert all(r.ok and r.applied == ("price", "quantity", "active") for i, r in enumerate(results) if i != 2)
    assert all(p.price == Decimal("2.5") and p.quantity == 3 and p.active for p in fake_shop.products())


def test_batches_stay_within_the_concurrency_bound(make_client, fake_shop):
    ids = [fake_shop.add_product(reference=f"R{i}", price="1") for i in range(40)]
    client = make_client("r_genesys", batch_size=2, concurrency=3)
    fake_shop.latency_ms = 15
    results = client.update_products([ProductUpdate(i, active=True) for i in ids])
    assert all(r.ok for r in results)
    assert 2 <= fake_shop.max_in_flight <= 3
    assert len(posts(fake_shop, "updateproducts")) == 20


def test_a_batch_above_the_module_limit_is_split(fake_shop):
    fake_shop.settings.max_batch_size = 2
    ids = [fake_shop.add_product(reference=f"R{i}", price="1") for i in range(5)]
    with RGenesysClient(config=make_config(fake_shop, "r_genesys", batch_size=5)) as client:
        results = client.update_products([ProductUpdate(i, quantity=4) for i in ids])
    assert all(r.ok for r in results)
    statuses = [r.status for r in fake_shop.requests if r.path == "/r_genesys/updateproducts"]
    assert statuses[0] == 413 and statuses.count(200) == 3


def test_a_refused_key_fails_every_item_without_hammering(fake_shop):
    ids = [fake_shop.add_product(reference=f"R{i}", price="1") for i in range(10)]
    with RGenesysClient(config=make_config(fake_shop, "r_genesys", api_key="Z" * 32, batch_size=1)) as client:
        assert not client.check().authorized
        fake_shop.reset_log()
        results = client.update_products([ProductUpdate(i, active=True) for i in ids])
    assert all(not r.ok and r.permanent and r.status == 401 and r.code == "unauthorized" for r in results)
    assert len(fake_shop.requests) <= client.config.concurrency


def test_find_products_and_state(make_client, fake_shop):
    product_id = fake_shop.add_product(reference="LNV-1", price="10", ean13="4006381333931", quantity=2)
    client = make_client("r_genesys")
    assert [p.id for p in client.find_products(reference="lnv-1")] == [product_id]
    assert [p.id for p in client.find_products(ean13="4006381333931")] == [product_id]
    assert client.find_products(reference="A|B") == []  # no filter grammar here: plain exact match
    state = client.get_product_state(product_id)
    assert (state.price, state.quantity, state.active, state.reference) == (Decimal("10"), 2, False, "LNV-1")
    assert client.get_product_state(424242) is None


def test_a_module_speaking_another_contract_is_refused(make_client, fake_shop):
    client = make_client("r_genesys")
    fake_shop.add_fault(
        status=200,
        body=b'{"languages": []}',
        content_type="application/json",
        headers={"X-Genesys-Contract": "2"},
    )
    with pytest.raises(ShopResponseError, match="contract 2"):
        client.list_languages()


def test_the_shop_header_selects_the_stock_row():
    with running_fake_shop(shop_ids=(1, 2)) as shop:
        product_id = shop.add_product(reference="A", price="1")
        with RGenesysClient(config=make_config(shop, "r_genesys", shop_id=2)) as client:
            assert client.update_products([ProductUpdate(product_id, quantity=6)])[0].ok
        assert shop.product(product_id).quantities == {1: 0, 2: 6}


@pytest.mark.parametrize(
    ("method", "action", "headers", "body", "status", "code"),
    [
        ("GET", "status", {}, None, 401, "unauthorized"),
        ("GET", "status", {"X-Genesys-Key": "wrong"}, None, 401, "unauthorized"),
        ("GET", "nothing", HEADERS, None, 404, "unknown_endpoint"),
        ("GET", "updateproducts", HEADERS, None, 405, "method_not_allowed"),
        ("POST", "updateproducts", HEADERS, b'{"items": []}', 415, "unsupported_media_type"),
        ("POST", "updateproducts", JSON_HEADERS, b"{", 400, "invalid_json"),
        ("POST", "updateproducts", JSON_HEADERS, b'{"items": []}', 400,
         "invalid_request"),
        ("GET", "status", {**HEADERS, "X-Genesys-Shop": "9"}, None, 400, "unknown_shop"),
        ("GET", "getproduct?id_product=77", HEADERS, None, 404, "product_not_found"),
        ("GET", "getcategories?limit=5000", HEADERS, None, 400, "invalid_request"),
    ],
)  # fmt: skip
def test_module_errors_have_one_json_shape(fake_shop, method, action, headers, body, status, code):
    response = requests.request(
        method, f"{fake_shop.url}/r_genesys/{action}", headers=headers, data=body, timeout=30
    )
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Genesys-Contract"] == "1"
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if status == 405:
        assert response.headers["Allow"] == "POST"


def test_a_batch_above_the_limit_is_413(fake_shop):
    items = [{"id_product": i + 1, "active": True} for i in range(201)]
    response = requests.post(
        f"{fake_shop.url}/r_genesys/updateproducts",
        headers=JSON_HEADERS,
        data=json.dumps({"items": items}),
        timeout=30,
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "batch_too_large"


def test_invalid_items_are_refused_one_by_one(fake_shop):
    product_id = fake_shop.add_product(reference="A", price="1")
    items = [
        {"id_product": product_id, "price": 3.5},  # a float, not a decimal string
        {"id_product": product_id, "quantity": -1},
        {"id_product": product_id, "active": "yes"},
        {"id_product": product_id},
        {"id_product": product_id, "price": "3.500000"},
    ]
    response = requests.post(
        f"{fake_shop.url}/r_genesys/updateproducts",
        headers=JSON_HEADERS,
        data=json.dumps({"items": items}),
        timeout=30,
    )
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [False, False, False, False, True]
    assert [r["error"]["code"] for r in results[:4]] == ["invalid_field"] * 3 + ["nothing_to_update"]
    assert fake_shop.product(product_id).price == Decimal("3.5")


def test_a_missing_module_is_an_error_not_a_missing_product():
    with running_fake_shop(backend="webservice") as shop:
        with RGenesysClient(config=make_config(shop, "r_genesys")) as client:
            with pytest.raises(ShopNotFoundError, match="an HTML page"):
                client.get_product_state(1)
            result = client.check()
    assert result.reachable and not result.authorized and "404" in result.error
