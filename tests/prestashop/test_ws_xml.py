"""Webservice XML builders and parsers, without HTTP."""

from decimal import Decimal

import pytest
from lxml import etree

from prestashop import ws_xml
from prestashop.errors import ShopResponseError
from prestashop.fields import prepare_product
from prestashop.types import ShopLanguage
from tests.prestashop.conftest import draft

LANGUAGES = [ShopLanguage(1, "pt", "Português"), ShopLanguage(2, "en", "English")]


def product_xml(**changes) -> bytes:
    product = prepare_product(draft(**changes), languages=LANGUAGES)
    return ws_xml.build_product_xml(product, shop_id=1, tax_rules_group_id=7)


def test_create_payload_sets_what_a_blank_schema_would_leave_empty():
    root = etree.fromstring(product_xml())
    product = root.find("product")
    values = {child.tag: child.text for child in product if not len(child)}
    assert values["active"] == "0"
    assert values["state"] == "1"
    assert values["price"] == "499.990000"
    assert values["weight"] == "1.600000"
    assert values["reference"] == "SKU-1"
    assert values["ean13"] == "4006381333931"
    assert values["id_category_default"] == "4"
    assert values["id_manufacturer"] == "6"
    assert values["id_tax_rules_group"] == "7"
    assert values["id_shop_default"] == "1"
    assert {
        k: values[k] for k in ("visibility", "available_for_order", "show_price", "minimal_quantity")
    } == {
        "visibility": "both",
        "available_for_order": "1",
        "show_price": "1",
        "minimal_quantity": "1",
    }
    assert [c.text for c in product.iterfind("associations/categories/category/id")] == ["4", "3"]


def test_create_payload_never_sends_fields_the_shop_refuses_on_create():
    product = etree.fromstring(product_xml()).find("product")
    for forbidden in ("id", "quantity", "manufacturer_name", "position_in_category"):
        assert product.find(forbidden) is None
    assert [child.tag for child in product.find("associations")] == ["categories"]


def test_create_payload_leaves_out_ean13_for_a_real_gtin14_and_manufacturer_when_unknown():
    product = etree.fromstring(product_xml(gtin="14006381333938", id_manufacturer=None)).find("product")
    assert product.find("ean13") is None
    assert product.find("id_manufacturer") is None


def test_create_payload_is_multilingual_with_language_nodes():
    product = etree.fromstring(product_xml()).find("product")
    assert ws_xml.multilang(product.find("name")) == {
        1: "Portátil Lenovo IdeaPad 15",
        2: "Lenovo IdeaPad 15 laptop",
    }
    assert ws_xml.multilang(product.find("link_rewrite")) == {
        1: "portatil-lenovo-ideapad-15",
        2: "lenovo-ideapad-15-laptop",
    }
    assert ws_xml.multilang(product.find("description"))[2] == "<p>15.6 inch screen</p>"


def test_text_values_travel_in_cdata_and_survive_ampersands_angles_and_control_characters():
    body = product_xml(
        names={"pt": "Rato & Teclado", "en": "Mouse & Keyboard"},
        descriptions={"pt": "<b>A & B</b> \x01\x02fim", "en": "x ]]> y"},
    )
    text = body.decode()
    assert "<![CDATA[Rato & Teclado]]>" in text
    assert "<![CDATA[<b>A & B</b> fim]]>" in text  # control characters removed
    assert "x ]]&gt; y" in text  # CDATA cannot hold its terminator: escaped text instead
    product = etree.fromstring(body).find("product")
    assert ws_xml.multilang(product.find("description")) == {1: "<b>A & B</b> fim", 2: "x ]]> y"}


def test_patch_payload_has_the_mandatory_id_and_only_the_changes():
    root = etree.fromstring(ws_xml.build_product_patch_xml(id_product=42, price="9.243697", active=None))
    assert [(child.tag, child.text) for child in root.find("product")] == [
        ("id", "42"),
        ("price", "9.243697"),
    ]


def _stored_product() -> etree._Element:
    return etree.fromstring(
        b"""<?xml version="1.0" encoding="UTF-8"?>
<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><product>
<id><![CDATA[42]]></id>
<id_manufacturer xlink:href="http://shop/api/manufacturers/3"><![CDATA[3]]></id_manufacturer>
<position_in_category><![CDATA[0]]></position_in_category>
<manufacturer_name><![CDATA[Bosch]]></manufacturer_name>
<quantity><![CDATA[5]]></quantity>
<reference><![CDATA[SKU-42]]></reference>
<price><![CDATA[10.000000]]></price>
<active><![CDATA[0]]></active>
<name><language id="1" xlink:href="http://shop/api/languages/1"><![CDATA[Forno]]></language></name>
<associations><categories nodeType="category" api="categories"><category><id>2</id></category></categories>
</associations></product></prestashop>"""
    )


def test_put_payload_is_the_stored_product_without_read_only_fields():
    body = ws_xml.product_put_xml(_stored_product(), price="12.500000", active=True)
    product = etree.fromstring(body).find("product")
    tags = [child.tag for child in product]
    assert tags == ["id", "id_manufacturer", "reference", "price", "active", "name"]
    assert product.findtext("price") == "12.500000"
    assert product.findtext("active") == "1"
    assert ws_xml.multilang(product.find("name")) == {1: "Forno"}
    assert product.find("name/language").attrib == {"id": "1"}  # xlink attributes dropped
    assert product.find("id_manufacturer").attrib == {}


def test_stock_payloads():
    row = ws_xml.StockRow(67, 42, 0, 1, 0, 3, 0, 2)
    put = etree.fromstring(ws_xml.build_stock_put_xml(row, quantity=-4)).find("stock_available")
    assert {child.tag: child.text for child in put} == {
        "id": "67",
        "id_product": "42",
        "id_product_attribute": "0",
        "id_shop": "1",
        "id_shop_group": "0",
        "quantity": "0",  # negative stock is sent as 0
        "depends_on_stock": "0",
        "out_of_stock": "2",
    }
    patch = etree.fromstring(ws_xml.build_stock_patch_xml(id_stock=67, quantity=10)).find("stock_available")
    assert [(child.tag, child.text) for child in patch] == [("id", "67"), ("quantity", "10")]


def test_pick_stock_row_prefers_the_configured_shop_then_a_single_shared_row():
    rows = [
        ws_xml.StockRow(1, 42, 0, 1, 0, 3, 0, 2),
        ws_xml.StockRow(2, 42, 0, 2, 0, 5, 0, 2),
        ws_xml.StockRow(3, 42, 7, 2, 0, 5, 0, 2),  # a combination row
    ]
    assert ws_xml.pick_stock_row(rows, shop_id=2).id == 2
    assert ws_xml.pick_stock_row(rows, shop_id=3) is None
    shared = [ws_xml.StockRow(9, 42, 0, 0, 1, 3, 0, 2)]
    assert ws_xml.pick_stock_row(shared, shop_id=3).id == 9


def test_parse_reads_cdata_single_and_multiple_language_nodes():
    root = ws_xml.parse_xml(
        """<?xml version="1.0" encoding="UTF-8"?>
<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><categories>
<category><id><![CDATA[3]]></id><id_parent><![CDATA[2]]></id_parent><active><![CDATA[1]]></active>
<level_depth><![CDATA[2]]></level_depth><is_root_category><![CDATA[0]]></is_root_category>
<name><language id="1"><![CDATA[Informática]]></language>
<language id="2"><![CDATA[Computers]]></language></name>
</category>
<category><id>2</id><id_parent>1</id_parent><active>1</active><level_depth>1</level_depth>
<is_root_category>1</is_root_category>
<name><language id="2"><![CDATA[Home & Co]]></language></name></category>
<category><id>1</id><id_parent>0</id_parent><active>1</active><level_depth>0</level_depth>
<is_root_category>0</is_root_category><name>Root</name></category>
</categories></prestashop>""".encode(),
        status=200,
        label="GET /api/categories",
    )
    first, home, top = ws_xml.parse_categories(root)
    assert (first.id, first.parent_id, first.depth, first.active, first.is_root) == (3, 2, 2, True, False)
    assert first.names == {1: "Informática", 2: "Computers"}
    assert first.name == "Informática"
    assert home.names == {2: "Home & Co"} and home.is_root
    assert top.name == "Root" and top.is_root  # no parent: the tree's Root


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html><body><h1>403 Forbidden</h1></body></html>", "an HTML page"),
        (
            b"<br />\n<b>Notice</b>:  Undefined index: id in <b>/var/www/x.php</b> on line <b>3</b><br />\n"
            b'<?xml version="1.0"?><prestashop/>',
            "PHP notices",
        ),
        (b'<?xml version="1.0"?><prestashop><products></prestashop>', "broken XML"),
        (b'<?xml version="1.0"?><html/>', "not <prestashop>"),
        (b"", "empty body"),
    ],
)
def test_parse_refuses_what_is_not_prestashop_xml_with_a_clear_message(body, expected):
    with pytest.raises(ShopResponseError, match=expected) as caught:
        ws_xml.parse_xml(body, status=200, label="GET /api/products")
    assert caught.value.permanent
    assert str(caught.value).startswith("GET /api/products")


def test_a_5xx_page_is_a_transient_response_error():
    with pytest.raises(ShopResponseError) as caught:
        ws_xml.parse_xml(b"<html>Bad gateway</html>", status=502, label="GET /api/")
    assert not caught.value.permanent


def test_parse_ignores_control_characters_in_responses():
    root = ws_xml.parse_xml(
        b'<?xml version="1.0"?><prestashop><manufacturers><manufacturer><id>1</id>'
        b"<name><![CDATA[Bo\x0bsch]]></name><active>1</active></manufacturer></manufacturers></prestashop>",
        status=200,
        label="GET",
    )
    assert ws_xml.parse_manufacturers(root)[0].name == "Bosch"


def test_parse_errors_and_permissions():
    errors = ws_xml.parse_errors(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop><errors><error><code><![CDATA[93]]></code>'
        b'<message><![CDATA[parameter "quantity" not writable]]></message></error></errors></prestashop>'
    )
    assert errors == [("93", 'parameter "quantity" not writable')]
    assert ws_xml.parse_errors(b"401 Unauthorized") == []
    root = etree.fromstring(
        b'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><api shopName="x">'
        b'<products get="true" put="false" post="true" patch="true" delete="false" head="true"/>'
        b'<languages get="true" put="false" post="false" delete="false" head="false"/></api></prestashop>'
    )
    assert ws_xml.parse_permissions(root) == {
        "products": ("GET", "PATCH", "POST", "HEAD"),
        "languages": ("GET",),
    }


def test_parse_product_prices():
    root = etree.fromstring(
        b"<prestashop><products><product><id>5</id><reference>R</reference><price>9.500000</price>"
        b"<active>1</active></product></products></prestashop>"
    )
    assert ws_xml.parse_product_prices(root) == [(5, Decimal("9.5"), True, "R")]
