"""The fake shop reproduces the Webservice's quirks (raw HTTP, no Genesys client involved)."""

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import requests
from lxml import etree

from prestashop.fake import DEFAULT_TEST_KEY, FakeShop, running_fake_shop

AUTH = (DEFAULT_TEST_KEY, "")
XML = {"Content-Type": "text/xml"}


def api(shop: FakeShop, path: str) -> str:
    return f"{shop.url}/api/{path}"


def error_codes(response: requests.Response) -> list[int]:
    root = etree.fromstring(response.content)
    return [int(code.text) for code in root.iterfind("errors/error/code")]


def product_xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><prestashop><product>{body}</product></prestashop>'


def stock_xml(body: str) -> str:
    return f"<prestashop><stock_available>{body}</stock_available></prestashop>"


# --- authentication and permissions ------------------------------------------------------------


def test_no_key_is_a_plain_text_401_with_a_basic_challenge(fake_shop):
    response = requests.get(api(fake_shop, "products"), timeout=30)
    assert response.status_code == 401
    assert response.text == "401 Unauthorized"
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="Welcome to PrestaShop Webservice')
    assert "PSWS-Version" not in response.headers


def test_a_bad_key_is_an_xml_401_with_codes(fake_shop):
    wrong = requests.get(api(fake_shop, "products"), auth=("W" * 32, ""), timeout=30)
    assert wrong.status_code == 401 and error_codes(wrong) == [20, 21]
    assert "PSWS-Version" not in wrong.headers
    short = requests.get(api(fake_shop, "products"), auth=("SHORT", ""), timeout=30)
    assert short.status_code == 401 and error_codes(short) == [18]


def test_the_key_may_also_come_as_ws_key(fake_shop):
    response = requests.get(api(fake_shop, "languages"), params={"ws_key": DEFAULT_TEST_KEY}, timeout=30)
    assert response.status_code == 200 and response.headers["PSWS-Version"] == "8.1.5"
    assert response.headers["X-Powered-By"] == "PrestaShop Webservice"
    assert response.headers["Content-Type"] == "text/xml;charset=utf-8"


def test_resource_and_method_permissions(fake_shop):
    key = "LANGONLYLANGONLYLANGONLYLANGONLY"
    fake_shop.grant(key, {"languages": ["GET"], "products": ["GET"]})
    not_granted = requests.get(api(fake_shop, "categories"), auth=(key, ""), timeout=30)
    assert not_granted.status_code == 401 and error_codes(not_granted) == [26]
    assert not_granted.headers["PSWS-Version"] == "8.1.5"  # authenticated, only not allowed
    method = requests.post(api(fake_shop, "products"), data=product_xml(""), auth=(key, ""), timeout=30)
    assert method.status_code == 405 and error_codes(method) == [25]
    root = etree.fromstring(requests.get(api(fake_shop, ""), auth=(key, ""), timeout=30).content)
    assert [node.tag for node in root.find("api")] == ["languages", "products"]
    assert root.find("api/products").get("get") == "true" and root.find("api/products").get("post") == "false"


def test_unknown_resources_suggest_the_closest_name(fake_shop):
    response = requests.get(api(fake_shop, "product"), auth=AUTH, timeout=30)
    assert response.status_code == 400 and error_codes(response) == [27]
    assert 'Did you mean: "products"' in response.text


# --- methods and writes ------------------------------------------------------------------------


def test_patch_does_not_exist_before_8(fake_shop):
    product_id = fake_shop.add_product(reference="A")
    fake_shop.version = "1.7.8.11"
    body = product_xml(f"<id>{product_id}</id><price>2</price>")
    response = requests.patch(api(fake_shop, f"products/{product_id}"), data=body, auth=AUTH, timeout=30)
    assert response.status_code == 405 and error_codes(response) == [23]
    root = etree.fromstring(requests.get(api(fake_shop, ""), auth=AUTH, timeout=30).content)
    assert "patch" not in root.find("api/products").attrib


def test_patch_merges_and_needs_the_id(fake_shop):
    product_id = fake_shop.add_product(reference="A", name="Forno", price="10")
    url = api(fake_shop, f"products/{product_id}")
    missing_id = requests.patch(url, data=product_xml("<price>2</price>"), auth=AUTH, timeout=30)
    assert missing_id.status_code == 400 and error_codes(missing_id) == [90]
    merged = requests.patch(
        url, data=product_xml(f"<id>{product_id}</id><price>20.0</price>"), auth=AUTH, timeout=30
    )
    assert merged.status_code == 200
    assert "<![CDATA[20.0]]>" in merged.text  # the answer echoes the value as sent
    assert "<![CDATA[20.000000]]>" in requests.get(url, auth=AUTH, timeout=30).text  # stored with 6 places
    assert fake_shop.product(product_id).names == {1: "Forno", 2: "Forno"}
    override = requests.post(
        url, params={"ps_method": "PATCH"}, data=product_xml(f"<id>{product_id}</id><active>1</active>"),
        auth=AUTH, timeout=30,
    )  # fmt: skip
    assert override.status_code == 200 and fake_shop.product(product_id).active


def test_post_refuses_an_id_and_answers_201_with_stock_associations(fake_shop):
    with_id = requests.post(
        api(fake_shop, "products"), data=product_xml("<id>5</id><price>1</price>"), auth=AUTH, timeout=30
    )
    assert with_id.status_code == 400 and error_codes(with_id) == [91]
    body = product_xml(
        "<price>1</price><name><language id='1'>Máquina Lavar Roupa 9kg</language>"
        "<language id='2'>Washer</language></name><active>0</active>"
    )
    created = requests.post(api(fake_shop, "products"), data=body, auth=AUTH, timeout=30)
    assert created.status_code == 201
    root = etree.fromstring(created.content)
    product_id = int(root.findtext("product/id"))
    assert root.find("product/associations/stock_availables/stock_available/id") is not None
    assert fake_shop.product(product_id).link_rewrites == {1: "maquina-lavar-roupa-9kg", 2: "washer"}
    assert root.findtext("product/visibility") == ""  # left out: NULL, rendered as an empty element


def test_missing_price_is_code_41_and_read_only_fields_are_code_93(fake_shop):
    response = requests.post(
        api(fake_shop, "products"), data=product_xml("<reference>A</reference>"), auth=AUTH, timeout=30
    )
    assert response.status_code == 400 and error_codes(response) == [41]
    for field in ("quantity", "manufacturer_name"):
        body = product_xml(f"<price>1</price><{field}>3</{field}>")
        response = requests.post(api(fake_shop, "products"), data=body, auth=AUTH, timeout=30)
        assert response.status_code == 400 and error_codes(response) == [93]
        assert f'parameter "{field}" not writable' in response.text


def test_validation_errors(fake_shop):
    product_id = fake_shop.add_product(reference="A")
    url = api(fake_shop, f"products/{product_id}")
    for field, value, code in (
        ("price", "-1", 85),
        ("price", "1,5", 85),
        ("reference", "A;B", 85),
        ("reference", "R" * 65, 85),
        ("ean13", "12345678901234", 85),
        ("active", "true", 85),
    ):
        body = product_xml(f"<id>{product_id}</id><{field}>{value}</{field}>")
        response = requests.patch(url, data=body, auth=AUTH, timeout=30)
        assert (response.status_code, error_codes(response)) == (400, [code]), (field, value)
    link = product_xml(
        f"<id>{product_id}</id><link_rewrite><language id='1'>não válido</language></link_rewrite>"
    )
    response = requests.patch(url, data=link.encode(), auth=AUTH, timeout=30)
    assert (response.status_code, error_codes(response)) == (400, [84])


def test_bad_xml_is_500_code_127(fake_shop):
    for body in (b"<prestashop><product><name>Rato & Teclado</name></product></prestashop>", b"price=1", b""):
        response = requests.post(api(fake_shop, "products"), data=body, auth=AUTH, timeout=30)
        assert response.status_code == 500 and error_codes(response) == [127]
        assert "String could not be parsed as XML" in response.text


def test_missing_ids(fake_shop):
    response = requests.get(api(fake_shop, "products/4242"), auth=AUTH, timeout=30)
    assert response.status_code == 404 and response.content == b""
    body = product_xml("<id>4242</id><price>1</price>")
    put = requests.put(api(fake_shop, "products/4242"), data=body, auth=AUTH, timeout=30)
    assert put.status_code == 404 and error_codes(put) == [92]
    delete = requests.delete(api(fake_shop, "products/4242"), auth=AUTH, timeout=30)
    assert delete.status_code == 404 and error_codes(delete) == [87]


def test_put_of_the_position_in_category_fails_like_ps26761(fake_shop):
    product_id = fake_shop.add_product(reference="A")
    body = product_xml(f"<id>{product_id}</id><price>1</price><position_in_category>7</position_in_category>")
    response = requests.put(api(fake_shop, f"products/{product_id}"), data=body, auth=AUTH, timeout=30)
    assert response.status_code == 500 and error_codes(response) == [135]


def test_associations_replace_and_unknown_ones_are_refused(fake_shop):
    product_id = fake_shop.add_product(reference="A", id_category_default=4)
    url = api(fake_shop, f"products/{product_id}")
    body = product_xml(
        f"<id>{product_id}</id><associations><categories><category><id>5</id></category>"
        "<category><id>6</id></category></categories></associations>"
    )
    assert requests.patch(url, data=body, auth=AUTH, timeout=30).status_code == 200
    assert fake_shop.product(product_id).category_ids == (5, 6)
    bad = product_xml(f"<id>{product_id}</id><associations><tags><tag><id>1</id></tag></tags></associations>")
    response = requests.patch(url, data=bad, auth=AUTH, timeout=30)
    assert response.status_code == 400 and error_codes(response) == [86]


# --- stock -------------------------------------------------------------------------------------


def test_stock_rows_are_created_with_the_product_and_refuse_post_and_delete():
    with running_fake_shop(shop_ids=(1, 2)) as shop:
        product_id = shop.add_product(reference="A")
        rows = shop.stock_rows(product_id)
        assert sorted((r["id_shop"], r["id_product_attribute"], r["quantity"]) for r in rows) == [
            ("1", "0", "0"),
            ("2", "0", "0"),
        ]
        body = stock_xml("<id_product>1</id_product><quantity>3</quantity>")
        post = requests.post(api(shop, "stock_availables"), data=body, auth=AUTH, timeout=30)
        assert post.status_code == 405 and error_codes(post) == [101]
        delete = requests.delete(api(shop, f"stock_availables/{rows[0]['id']}"), auth=AUTH, timeout=30)
        assert delete.status_code == 405 and error_codes(delete) == [101]


def test_a_stock_put_needs_every_required_field(fake_shop):
    product_id = fake_shop.add_product(reference="A")
    row = fake_shop.stock_rows(product_id)[0]
    body = stock_xml(f"<id>{row['id']}</id><quantity>3</quantity>")
    response = requests.put(api(fake_shop, f"stock_availables/{row['id']}"), data=body, auth=AUTH, timeout=30)
    assert response.status_code == 400 and error_codes(response) == [41]
    full = (
        f"<prestashop><stock_available><id>{row['id']}</id><id_product>{product_id}</id_product>"
        "<id_product_attribute>0</id_product_attribute><id_shop>1</id_shop><id_shop_group>0</id_shop_group>"
        "<quantity>3</quantity><depends_on_stock>0</depends_on_stock><out_of_stock>2</out_of_stock>"
        "</stock_available></prestashop>"
    )
    # OCA's way: PUT on the collection with the id in the body.
    assert (
        requests.put(api(fake_shop, "stock_availables"), data=full, auth=AUTH, timeout=30).status_code == 200
    )
    assert fake_shop.product(product_id).quantity == 3


# --- lists -------------------------------------------------------------------------------------


def test_lists_filter_display_sort_and_limit_without_totals(fake_shop):
    def ids(**params):
        response = requests.get(api(fake_shop, "categories"), params=params, auth=AUTH, timeout=30)
        assert response.status_code == 200, response.text
        return [int(node.get("id") or node.findtext("id")) for node in etree.fromstring(response.content)[0]]

    minimal = requests.get(api(fake_shop, "categories"), params={"limit": "2"}, auth=AUTH, timeout=30)
    root = etree.fromstring(minimal.content)
    assert [dict(node.attrib)["id"] for node in root.find("categories")] == ["1", "2"]
    assert root.find("categories").attrib == {}  # no count anywhere
    assert ids(**{"filter[id_parent]": "[3]", "sort": "[id_DESC]", "display": "[id,name]"}) == [
        12,
        11,
        7,
        6,
        5,
        4,
    ]
    assert ids(**{"filter[id]": "[4|6|99]"}) == [4, 6]
    assert ids(**{"filter[id]": "[4,6]"}) == [4, 5, 6]
    assert ids(**{"filter[id]": ">[40]"}) == []
    assert ids(**{"filter[name]": "%[portát]%", "display": "full"}) == [4]
    assert ids(**{"filter[id_parent]": "[3]", "limit": "1,2"}) == [5, 6]
    by_name = requests.get(
        api(fake_shop, "categories"), params={"sort": "[name_ASC]", "display": "[id,name]", "language": "2"},
        auth=AUTH, timeout=30,
    )  # fmt: skip
    names = [node.findtext("name/language") for node in etree.fromstring(by_name.content)[0]]
    assert names[:3] == ["Accessories", "All products", "Components"] and names == sorted(
        names, key=str.lower
    )


def test_list_parameter_errors(fake_shop):
    for params, code in (
        ({"filter[nope]": "[1]"}, 32),
        ({"filter[id]": ""}, 33),
        ({"display": "[id,nope]"}, 35),
        ({"display": "id"}, 36),
        ({"sort": "[id]"}, 37),
        ({"sort": "[nope_ASC]"}, 38),
        ({"limit": "1,2,3"}, 39),
    ):
        response = requests.get(api(fake_shop, "categories"), params=params, auth=AUTH, timeout=30)
        assert (response.status_code, error_codes(response)) == (400, [code]), params


def test_values_are_cdata_and_texts_are_language_nodes(fake_shop):
    product_id = fake_shop.add_product(reference="R&D <1>", name="Rato & Teclado", id_manufacturer=3)
    text = requests.get(api(fake_shop, f"products/{product_id}"), auth=AUTH, timeout=30).text
    assert "<reference><![CDATA[R&D <1>]]></reference>" in text
    assert re.search(
        r'<language id="1" xlink:href="[^"]+/api/languages/1"><!\[CDATA\[Rato & Teclado\]\]>', text
    )
    assert re.search(r'<id_manufacturer xlink:href="[^"]+/api/manufacturers/3"><!\[CDATA\[3\]\]>', text)
    assert "<manufacturer_name><![CDATA[Bosch]]></manufacturer_name>" in text
    one = requests.get(
        api(fake_shop, f"products/{product_id}"), params={"language": "2"}, auth=AUTH, timeout=30
    ).text
    assert one.count("<language ") == one.count('<language id="2"')


def test_json_output_and_the_empty_list_quirk(fake_shop):
    empty = requests.get(api(fake_shop, "products"), params={"output_format": "JSON"}, auth=AUTH, timeout=30)
    assert empty.status_code == 200 and empty.text == "[]"
    fake_shop.add_product(reference="A", name="Forno")
    listing = requests.get(
        api(fake_shop, "products"), params={"display": "[id,name,price]"}, headers={"Output-Format": "JSON"},
        auth=AUTH, timeout=30,
    ).json()  # fmt: skip
    assert listing == {
        "products": [
            {
                "id": 1,
                "name": [{"id": "1", "value": "Forno"}, {"id": "2", "value": "Forno"}],
                "price": "10.000000",
            }
        ]
    }
    single = requests.get(
        api(fake_shop, "products/1"), params={"output_format": "JSON", "language": "1"}, auth=AUTH, timeout=30
    ).json()
    assert single["product"]["name"] == "Forno"  # one language: a plain string
    errors = requests.get(
        api(fake_shop, "nope"), params={"output_format": "JSON"}, auth=AUTH, timeout=30
    ).json()
    assert errors["errors"][0]["code"] == 27


# --- runtime behaviour -------------------------------------------------------------------------


def test_fail_rate_and_latency():
    with running_fake_shop(fail_rate=1.0, latency_ms=40) as shop:
        started = time.monotonic()
        response = requests.get(api(shop, "languages"), auth=AUTH, timeout=30)
        assert time.monotonic() - started >= 0.04
        assert response.status_code == 500 and "<h1>Internal Server Error</h1>" in response.text


def test_state_survives_a_restart_and_is_not_reseeded(tmp_path):
    state = str(tmp_path / "shop.sqlite3")
    with running_fake_shop(state=state) as shop:
        product_id = shop.add_product(reference="KEEP", price="3.5", quantity=4)
    with running_fake_shop(state=state) as shop:
        product = shop.product(product_id)
        assert (product.reference, product.price, product.quantity) == ("KEEP", Decimal("3.5"), 4)
        response = requests.get(api(shop, "categories"), auth=AUTH, timeout=30)
        assert len(etree.fromstring(response.content).find("categories")) == 34


def test_concurrent_writes_are_all_applied(fake_shop):
    ids = [fake_shop.add_product(reference=f"R{i}") for i in range(16)]
    rows = {i: fake_shop.stock_rows(i)[0]["id"] for i in ids}
    errors = []

    def write(product_id):
        with requests.Session() as session:
            session.auth = AUTH
            for step in range(5):
                body = product_xml(f"<id>{product_id}</id><price>{step}</price>")
                stock = stock_xml(f"<id>{rows[product_id]}</id><quantity>{step}</quantity>")
                for url, data in (
                    (f"products/{product_id}", body),
                    (f"stock_availables/{rows[product_id]}", stock),
                ):
                    response = session.patch(api(fake_shop, url), data=data, timeout=30)
                    if response.status_code != 200:
                        errors.append(response.text)

    threads = [threading.Thread(target=write, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(p.price == Decimal(4) and p.quantity == 4 for p in fake_shop.products())
    assert fake_shop.max_in_flight > 1


def test_the_request_log_keeps_bodies_but_not_credentials(fake_shop):
    requests.get(api(fake_shop, "languages"), auth=AUTH, timeout=30)
    requests.get(f"{fake_shop.url}/r_genesys/status", headers={"X-Genesys-Key": DEFAULT_TEST_KEY}, timeout=30)
    for logged in fake_shop.requests:
        assert "authorization" not in logged.headers and "x-genesys-key" not in logged.headers
        assert DEFAULT_TEST_KEY not in json.dumps(logged.headers)
    assert [r.backend for r in fake_shop.requests] == ["webservice", "r_genesys"]


def test_one_backend_only():
    with running_fake_shop(backend="webservice") as shop:
        assert requests.get(f"{shop.url}/r_genesys/status", timeout=30).status_code == 404
        assert requests.get(api(shop, "languages"), auth=AUTH, timeout=30).status_code == 200


def test_the_command_serves_until_terminated(tmp_path):
    """``manage.py fake_prestashop`` as the Procfile runs it: a real process, a state file, SIGTERM."""
    state = tmp_path / "var" / "fake-shop.sqlite3"
    command = [sys.executable, "manage.py", "fake_prestashop", "--port", "0", "--state", str(state)]
    command += ["--api-key", DEFAULT_TEST_KEY, "--version", "1.7.8.11", "--backend", "webservice"]
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    process = subprocess.Popen(
        command,
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "the command printed nothing"
        banner = process.stdout.readline()
        url = re.search(r"listening on (http://\S+)", banner).group(1)
        assert "1.7.8.11" in banner and "/api/" in banner and "r_genesys" not in banner
        response = requests.get(f"{url}/api/", auth=AUTH, timeout=30)
        assert response.status_code == 200 and response.headers["PSWS-Version"] == "1.7.8.11"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert "Fake PrestaShop stopped." in output
        assert state.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
