"""The Webservice backend over real HTTP against the fake shop."""

from decimal import Decimal

import pytest
import requests
from lxml import etree

from prestashop.errors import ShopRequestError, ShopServerError, ShopValidationError
from prestashop.fake import DEFAULT_TEST_KEY, running_fake_shop
from prestashop.types import ProductUpdate
from prestashop.webservice import WebserviceClient
from tests.prestashop.conftest import draft, make_config

AUTH = (DEFAULT_TEST_KEY, "")


def calls(shop, *, methods=("GET", "POST", "PUT", "PATCH", "DELETE")):
    return [(r.method, r.path) for r in shop.requests if r.method in methods and r.path != "/api/"]


def test_categories_are_read_page_by_page_until_a_short_page(make_client, fake_shop):
    client = make_client("webservice", page_size=5)
    categories = client.list_categories()
    assert len(categories) == 34 and len({c.id for c in categories}) == 34
    pages = [r.query for r in fake_shop.requests if r.path == "/api/categories"]
    assert [p["limit"] for p in pages] == ["0,5", "5,5", "10,5", "15,5", "20,5", "25,5", "30,5"]
    assert all(p["sort"] == "[id_ASC]" for p in pages)
    assert pages[0]["display"] == "[id,id_parent,active,level_depth,is_root_category,name]"
    by_id = {c.id: c for c in categories}
    assert by_id[1].is_root and by_id[2].is_root and by_id[2].name == "Todos os produtos"
    assert (
        by_id[4].parent_id == 3 and by_id[4].depth == 3 and by_id[4].names == {1: "Portáteis", 2: "Laptops"}
    )
    assert [c.name for c in categories if not c.active] == ["Outlet"]


def test_a_full_last_page_costs_one_more_empty_request(make_client, fake_shop):
    client = make_client("webservice", page_size=11)
    manufacturers = client.list_manufacturers()
    assert len(manufacturers) == 22
    assert [r.query["limit"] for r in fake_shop.requests if r.path == "/api/manufacturers"] == [
        "0,11",
        "11,11",
        "22,11",
    ]
    assert {m.name: m.active for m in manufacturers}["Candy"] is False


def test_languages(make_client):
    languages = make_client("webservice").list_languages()
    assert [(lang.id, lang.iso_code) for lang in languages] == [(1, "pt"), (2, "en")]


def test_create_product_sends_a_disabled_complete_product(make_client, fake_shop):
    client = make_client("webservice")
    product_id = client.create_product(
        draft(names={"pt": "Rato & Teclado <sem fios>", "en": "Mouse & Keyboard"}, price=Decimal("8.4033613"))
    )
    [post] = [r for r in fake_shop.requests if r.method == "POST"]
    assert post.path == "/api/products"
    assert "<![CDATA[Rato & Teclado sem fios]]>" in post.body
    sent = etree.fromstring(post.body.encode()).find("product")
    for forbidden in ("id", "quantity", "manufacturer_name", "position_in_category"):
        assert sent.find(forbidden) is None
    stored = fake_shop.product(product_id)
    assert stored.active is False and stored.state == "1"
    assert stored.price == Decimal("8.403361")
    assert stored.reference == "SKU-1" and stored.ean13 == "4006381333931"
    assert stored.id_category_default == 4 and stored.category_ids == (4, 3)
    assert stored.id_manufacturer == 6
    assert stored.names == {1: "Rato & Teclado sem fios", 2: "Mouse & Keyboard"}
    assert stored.link_rewrites == {1: "rato-teclado-sem-fios", 2: "mouse-keyboard"}
    assert stored.descriptions[1] == "<p>Ecrã 15,6&quot;</p>"
    assert stored.fields["visibility"] == "both" and stored.fields["show_price"] == "1"
    assert stored.quantities == {1: 0}  # the shop made the stock row itself


def test_create_product_does_not_send_a_gtin14_as_ean13(make_client, fake_shop):
    product_id = make_client("webservice").create_product(draft(gtin="14006381333938"))
    assert fake_shop.product(product_id).ean13 == ""
    assert "<ean13>" not in fake_shop.requests[-1].body


def test_patch_on_prestashop_8_touches_only_price_and_active(make_client, fake_shop):
    product_id = fake_shop.add_product(reference="SKU-9", price="10", name="Forno Bosch")
    client = make_client("webservice")
    [result] = client.update_products([ProductUpdate(product_id, price=Decimal("12.3456789"), active=True)])
    assert result.ok and result.applied == ("price", "active")
    assert calls(fake_shop, methods=("PATCH", "PUT")) == [("PATCH", f"/api/products/{product_id}")]
    patch = next(r for r in fake_shop.requests if r.method == "PATCH")
    assert f"<id>{product_id}</id>" in patch.body and "<price><![CDATA[12.345679]]></price>" in patch.body
    stored = fake_shop.product(product_id)
    assert stored.price == Decimal("12.345679") and stored.active
    assert stored.names == {1: "Forno Bosch", 2: "Forno Bosch"} and stored.reference == "SKU-9"


def test_before_8_the_update_is_get_strip_put_and_keeps_the_product(fake_shop):
    fake_shop.version = "1.7.8.11"
    product_id = fake_shop.add_product(reference="SKU-17", price="10", name="Frigorífico LG", quantity=4)
    with WebserviceClient(config=make_config(fake_shop, "webservice")) as client:
        [result] = client.update_products(
            [ProductUpdate(product_id, price=Decimal("20"), active=True, quantity=9)]
        )
    assert result.ok, result.error
    writes = calls(fake_shop, methods=("PATCH", "PUT"))
    assert ("PUT", f"/api/products/{product_id}") in writes and not any(m == "PATCH" for m, _ in writes)
    put = next(r for r in fake_shop.requests if r.method == "PUT" and r.path.startswith("/api/products"))
    sent = {child.tag for child in etree.fromstring(put.body.encode()).find("product")}
    assert not sent & {"manufacturer_name", "quantity", "position_in_category", "associations"}
    assert {"name", "link_rewrite", "reference", "visibility", "id_category_default"} <= sent
    stock_put = next(r for r in fake_shop.requests if r.method == "PUT" and "stock" in r.path)
    assert "<depends_on_stock>" in stock_put.body and "<out_of_stock>" in stock_put.body
    stored = fake_shop.product(product_id)
    assert stored.price == Decimal("20") and stored.active and stored.quantity == 9
    assert stored.names == {1: "Frigorífico LG", 2: "Frigorífico LG"} and stored.category_ids == (3,)
    assert stored.fields["visibility"] == "both" and stored.reference == "SKU-17"


def test_a_naive_put_would_have_blanked_the_product(fake_shop):
    product_id = fake_shop.add_product(reference="SKU-1", price="10", name="Televisor Samsung", active=True)
    body = f"<prestashop><product><id>{product_id}</id><price>12</price></product></prestashop>"
    response = requests.put(f"{fake_shop.url}/api/products/{product_id}", data=body, auth=AUTH, timeout=30)
    assert response.status_code == 200
    stored = fake_shop.product(product_id)
    assert stored.price == Decimal("12")
    assert stored.active is False  # PS#33783: active became NULL
    assert stored.names == {1: "", 2: ""} and stored.reference == "" and stored.fields["visibility"] is None


def test_a_naive_get_then_put_is_refused_with_code_93(fake_shop):
    product_id = fake_shop.add_product(reference="SKU-1", price="10", id_manufacturer=3)
    url = f"{fake_shop.url}/api/products/{product_id}"
    document = requests.get(url, auth=AUTH, timeout=30).content
    response = requests.put(url, data=document, auth=AUTH, timeout=30)
    assert response.status_code == 400
    assert "<![CDATA[93]]>" in response.text and "manufacturer_name" in response.text


def test_a_shop_downgraded_under_the_client_is_learnt_from_405_code_23(make_client, fake_shop):
    first = fake_shop.add_product(reference="A", price="1")
    second = fake_shop.add_product(reference="B", price="1")
    client = make_client("webservice", concurrency=1)
    assert client.update_products([ProductUpdate(first, active=True)])[0].ok
    fake_shop.version = "1.7.8.0"
    fake_shop.reset_log()
    results = client.update_products(
        [ProductUpdate(first, price=Decimal(2)), ProductUpdate(second, price=Decimal(3))]
    )
    assert all(r.ok for r in results)
    statuses = [(r.method, r.status) for r in fake_shop.requests if r.path.startswith("/api/products/")]
    assert statuses == [("PATCH", 405), ("GET", 200), ("PUT", 200), ("GET", 200), ("PUT", 200)]
    assert fake_shop.product(second).price == Decimal(3)


def test_a_key_without_patch_permission_updates_through_put(fake_shop):
    key = "PUTONLYKEYPUTONLYKEYPUTONLYKEY00"
    fake_shop.grant(key, {"products": ["GET", "PUT"], "stock_availables": ["GET", "PUT"]})
    product_id = fake_shop.add_product(reference="A", price="1")
    with WebserviceClient(config=make_config(fake_shop, "webservice", api_key=key)) as client:
        [result] = client.update_products([ProductUpdate(product_id, price=Decimal(5), quantity=2)])
    assert result.ok, result.error
    assert fake_shop.product(product_id).price == Decimal(5) and fake_shop.product(product_id).quantity == 2


def test_stock_goes_to_the_row_of_the_configured_shop():
    with running_fake_shop(shop_ids=(1, 2)) as shop:
        product_id = shop.add_product(reference="A", price="1", quantity=3)
        with WebserviceClient(config=make_config(shop, "webservice", shop_id=2)) as client:
            [result] = client.update_products([ProductUpdate(product_id, quantity=11)])
            assert result.ok and result.applied == ("quantity",)
            assert client.get_product_state(product_id).quantity == 11
        assert shop.product(product_id).quantities == {1: 3, 2: 11}
        lookups = [r.query for r in shop.requests if r.path == "/api/stock_availables" and r.method == "GET"]
        assert lookups[0]["filter[id_product]"] == f"[{product_id}]"
        assert lookups[0]["filter[id_product_attribute]"] == "[0]"
        assert not [r for r in shop.requests if r.method == "POST"]


def test_stock_row_ids_are_cached_between_updates(make_client, fake_shop):
    product_id = fake_shop.add_product(reference="A", price="1")
    client = make_client("webservice")
    client.update_products([ProductUpdate(product_id, quantity=1)])
    client.update_products([ProductUpdate(product_id, quantity=2)])
    stock_calls = [r.method for r in fake_shop.requests if r.path.startswith("/api/stock_availables")]
    assert stock_calls == ["GET", "PATCH", "PATCH"]
    assert fake_shop.product(product_id).quantity == 2


def test_batch_updates_report_per_item_and_stay_within_the_concurrency_bound(make_client, fake_shop):
    ids = [fake_shop.add_product(reference=f"R{i}", price="1") for i in range(24)]
    client = make_client("webservice", concurrency=4)
    client.list_languages()
    fake_shop.latency_ms = 15
    fake_shop.reset_log()
    updates = [ProductUpdate(i, price=Decimal(7), quantity=5, active=True) for i in ids]
    updates.insert(5, ProductUpdate(999_999, price=Decimal(1)))
    results = client.update_products(updates)
    assert [r.id_product for r in results] == [u.id_product for u in updates]
    missing = results[5]
    assert not missing.ok and missing.permanent and missing.status == 404 and missing.code == "92"
    assert all(r.ok for i, r in enumerate(results) if i != 5)
    assert 2 <= fake_shop.max_in_flight <= 4
    assert all(p.quantity == 5 and p.active and p.price == Decimal(7) for p in fake_shop.products())


def test_a_refused_key_stops_the_rest_of_the_batch(make_client, fake_shop):
    ids = [fake_shop.add_product(reference=f"R{i}", price="1") for i in range(30)]
    client = make_client("webservice", concurrency=2)
    client.list_languages()
    fake_shop.settings.keys.clear()
    fake_shop.reset_log()
    results = client.update_products([ProductUpdate(i, price=Decimal(2)) for i in ids])
    assert not any(r.ok for r in results) and all(r.status == 401 for r in results)
    assert len(fake_shop.requests) <= 4


def test_a_create_whose_answer_was_lost_is_found_by_reference_not_repeated(make_client, fake_shop):
    client = make_client("webservice", retries=3)
    client.list_languages()
    fake_shop.add_fault(method="POST", path_contains="/api/products", after=True)
    product_id = client.create_product(draft(reference="LOST-1"))
    assert [p.reference for p in fake_shop.products()] == ["LOST-1"]
    assert fake_shop.products()[0].id == product_id
    assert len([r for r in fake_shop.requests if r.method == "POST"]) == 1


def test_a_create_refused_before_processing_stays_a_transient_error(make_client, fake_shop):
    client = make_client("webservice", retries=3)
    client.list_languages()
    fake_shop.add_fault(method="POST", path_contains="/api/products")
    with pytest.raises(ShopServerError):
        client.create_product(draft(reference="NOT-1"))
    assert fake_shop.products() == []
    assert len([r for r in fake_shop.requests if r.method == "POST"]) == 1  # a POST is never repeated blindly


def test_bad_xml_is_a_permanent_error_and_not_retried(make_client, fake_shop):
    client = make_client("webservice", retries=3)
    with pytest.raises(ShopRequestError) as caught:
        client._request("POST", "products", body=b"<prestashop><product><price>1</price></prestashop>")
    assert caught.value.code == "127" and caught.value.status == 500 and caught.value.permanent
    assert len(fake_shop.requests) == 1


def test_find_products_and_product_state(make_client, fake_shop):
    product_id = fake_shop.add_product(
        reference="LNV-82H8", price="499.99", ean13="4006381333931", quantity=3
    )
    client = make_client("webservice")
    [found] = client.find_products(reference="lnv-82h8")  # MySQL compares case-insensitively
    assert (found.id, found.reference, found.ean13, found.active) == (
        product_id,
        "LNV-82H8",
        "4006381333931",
        False,
    )
    assert [p.id for p in client.find_products(ean13="4006381333931")] == [product_id]
    assert client.find_products(reference="LNV-82H8", ean13="0000000000000") == []
    query = next(r.query for r in fake_shop.requests if r.path == "/api/products")
    assert query["filter[reference]"] == "[lnv-82h8]" and query["display"] == "[id,reference,ean13,active]"
    state = client.get_product_state(product_id)
    assert (state.price, state.quantity, state.active) == (Decimal("499.99"), 3, False)
    assert client.get_product_state(424242) is None
    with pytest.raises(ShopValidationError):
        client.find_products(reference="A|B")
    with pytest.raises(ShopValidationError):
        client.find_products()


def test_a_missing_id_is_404_with_an_empty_body(make_client, fake_shop):
    client = make_client("webservice")
    assert client._request("GET", "products/424242") is None
    [logged] = fake_shop.requests
    assert logged.status == 404


def test_check_reports_version_languages_and_permissions(make_client, fake_shop):
    result = make_client("webservice").check()
    assert result.ok, result.error
    assert result.version == "8.1.5"
    assert [lang.iso_code for lang in result.languages] == ["pt", "en"]
    assert "PATCH" in result.permissions["products"]


def test_check_names_the_permissions_a_key_lacks(fake_shop):
    key = "READONLYKEYREADONLYKEYREADONLY00"
    fake_shop.grant(key, {"products": ["GET"], "languages": ["GET"]})
    with WebserviceClient(config=make_config(fake_shop, "webservice", api_key=key)) as client:
        result = client.check()
    assert result.authorized and not result.ok
    assert "products: POST" in result.missing and "stock_availables: GET" in result.missing
    assert "categories: GET" in result.missing


def test_check_of_a_bad_key(fake_shop):
    with WebserviceClient(config=make_config(fake_shop, "webservice", api_key="X" * 32)) as client:
        result = client.check()
    assert result.reachable and not result.authorized and "error 20" in result.error


def test_writes_name_the_shop_in_the_query(make_client, fake_shop):
    product_id = fake_shop.add_product(reference="A", price="1")
    make_client("webservice").update_products([ProductUpdate(product_id, active=True)])
    patch = next(r for r in fake_shop.requests if r.method == "PATCH")
    assert patch.query == {"id_shop": "1"}


def test_an_empty_404_on_a_write_is_a_failure_not_a_missing_object(make_client, fake_shop):
    product_id = fake_shop.add_product(reference="A", price="1")
    client = make_client("webservice")
    fake_shop.add_fault(status=404, body=b"", content_type="text/html", method="PATCH")
    [result] = client.update_products([ProductUpdate(product_id, price=Decimal(9))])
    assert not result.ok and result.status == 404 and result.permanent
    assert "an empty body" in result.error
