"""JSON and JSON Lines: items at items_path, exact numbers, clear errors for bad or misshapen documents."""

import json
from decimal import Decimal

from tests.support.feeds import read_all, source_for

PROFILE = {
    "fields": {
        "sku": "sku",
        "gtin": "ean",
        "brand": "manufacturer",
        "partnumber": "mpn",
        "name": "title",
        "category": "category.path",
        "image_url": "images.0",
        "weight": "attributes.weight_kg",
        "price": "pricing.net",
        "stock": "availability.qty",
    },
    "meta": "rest",
}
ITEM = {
    "sku": "NT-1",
    "ean": 5600000010280,
    "manufacturer": "Apple",
    "mpn": "MTP03QL/A",
    "title": "Apple iPhone 15",
    "category": {"path": "Telemóveis > Smartphones"},
    "pricing": {"net": 749.10, "currency": "EUR"},
    "availability": {"qty": 25},
    "images": ["https://img.example/a.jpg", "https://img.example/b.jpg"],
    "attributes": {"weight_kg": 0.171, "warranty_months": 36, "colors": ["black", "pink"]},
}


def read_json(feed_server, body, profile=PROFILE, **options):
    feed_server.route("/feed.json", body=body if isinstance(body, bytes) else json.dumps(body).encode())
    return read_all(source_for(feed_server.url("/feed.json"), format="json", format_options=options), profile)


def test_items_at_a_dotted_path_map_with_nested_sources(feed_server):
    result = read_json(feed_server, {"data": {"products": [ITEM]}, "page": 1}, items_path="data.products")
    assert result.error is None
    (row,) = result.rows
    assert row.line == 1
    assert row.gtin == "05600000010280"
    assert row.price == Decimal("749.1000")  # exact: JSON numbers are read as Decimal, never float
    assert row.stock == 25
    assert row.category == ("Telemóveis", "Smartphones")
    assert row.image_url == "https://img.example/a.jpg"
    assert row.weight == Decimal("0.171")
    assert row.meta == {
        "pricing.currency": "EUR",
        "attributes.warranty_months": "36",
        "attributes.colors": '["black", "pink"]',
    }


def test_a_document_that_is_a_list(feed_server):
    result = read_json(feed_server, [ITEM, {**ITEM, "sku": "NT-2"}])
    assert result.skus == ["NT-1", "NT-2"]
    assert [row.line for row in result.rows] == [1, 2]


def test_an_empty_list_is_an_empty_feed(feed_server):
    result = read_json(feed_server, {"data": {"products": []}}, items_path="data.products")
    assert result.error is None
    assert result.rows == []
    assert result.stats.completed


def test_malformed_json_stops_the_read_with_where_it_broke(feed_server):
    body = b'{"data": {"products": [' + json.dumps(ITEM).encode() + b', {"sku": "NT-2",}]}}'
    result = read_json(feed_server, body, items_path="data.products")
    message = str(result.error)
    assert message.startswith(
        "Malformed JSON: invalid object key (must be a string), after 1 items, within the first"
    )
    assert '"NT-2",}]}}' in message
    assert result.error.phase == "parse"
    assert not result.stats.completed


def test_a_truncated_document_stops_the_read(feed_server):
    body = json.dumps({"data": {"products": [ITEM, ITEM]}}).encode()[:-40]
    result = read_json(feed_server, body, items_path="data.products")
    assert str(result.error).startswith("Malformed JSON: premature EOF")


def test_a_missing_items_path_names_the_keys_that_exist(feed_server):
    result = read_json(feed_server, {"data": {"items": [ITEM]}, "meta": {}}, items_path="data.products")
    assert str(result.error) == (
        "data.products is not in the document (format_options.items_path); "
        "its top-level keys are: data, meta."
    )


def test_an_items_path_that_is_not_a_list_is_an_error(feed_server):
    result = read_json(feed_server, {"data": {"products": {"sku": "x"}}}, items_path="data.products")
    assert str(result.error) == "data.products is an object, not a list of items (format_options.items_path)."
    result = read_json(feed_server, {"data": {"products": None}}, items_path="data.products")
    assert str(result.error) == "data.products is null, not a list of items (format_options.items_path)."


def test_a_document_that_is_an_object_when_a_list_was_expected(feed_server):
    result = read_json(feed_server, {"products": [ITEM]})
    assert str(result.error) == "the document is an object, not a list of items (format_options.items_path)."


def test_items_that_are_not_objects_are_rejected_rows(feed_server):
    result = read_json(feed_server, [ITEM, 42, "NT-3", [1], None])
    assert result.skus == ["NT-1"]
    assert [(r.line, r.reason) for r in result.rejections] == [
        (2, "the item is a number, not an object"),
        (3, "the item is a string, not an object"),
        (4, "the item is a list, not an object"),
        (5, "the item is null, not an object"),
    ]
    assert result.rejections[1].raw == {"value": '"NT-3"'}


def test_a_utf8_bom_before_the_document_is_ignored(feed_server):
    result = read_json(feed_server, b"\xef\xbb\xbf" + json.dumps([ITEM]).encode())
    assert result.skus == ["NT-1"]


def test_json_lines_one_object_per_line_and_a_bad_line_is_a_rejected_row(feed_server):
    lines = [
        json.dumps(ITEM),
        "",
        '{"sku": "NT-2", "ean": "5600000010143",',
        "[1, 2]",
        json.dumps({**ITEM, "sku": "NT-4"}),
    ]
    result = read_json(feed_server, "\n".join(lines).encode(), lines=True)
    assert result.skus == ["NT-1", "NT-4"]
    assert [row.line for row in result.rows] == [1, 5]
    bad_json, not_object = result.rejections
    assert (bad_json.line, bad_json.reason) == (
        3,
        "the line is not valid JSON: Expecting property name enclosed in double quotes at column 40",
    )
    assert bad_json.raw == {"line": '{"sku": "NT-2", "ean": "5600000010143",'}
    assert (not_object.line, not_object.reason) == (4, "the line is a list, not an object")
    assert result.stats.completed


def test_json_lines_refuse_nan(feed_server):
    result = read_json(
        feed_server, b'{"sku": "A", "ean": "5600000010143", "pricing": {"net": NaN}}\n', lines=True
    )
    assert result.rejections[0].reason.startswith(
        "the line is not valid JSON: NaN is not a number JSON allows"
    )


def test_scientific_notation_and_float_exports_of_gtins(feed_server):
    items = [
        {**ITEM, "sku": "A", "ean": 5.60000001028e12},  # float export that lost nothing
        {**ITEM, "sku": "B", "ean": "5,60000E+12", "manufacturer": "", "mpn": ""},  # spreadsheet damage
    ]
    result = read_json(feed_server, items)
    assert result.row("A").gtin == "05600000010280"
    (rejection,) = result.rejections
    assert rejection.reason == (
        'no valid GTIN and no brand + part number (gtin "5,60000E+12": scientific notation lost digits '
        "(spreadsheet export))"
    )


def test_a_mapped_source_absent_from_the_first_items_is_a_feed_warning(feed_server):
    profile = {**PROFILE, "fields": {**PROFILE["fields"], "name": "name"}}
    result = read_json(feed_server, {"items": [ITEM]}, profile, items_path="items")
    assert result.rows[0].name == ""
    assert "name ← name: not found in any of the first 1 items" in result.stats.warnings


def test_the_missing_source_warning_reaches_the_preview_on_its_first_rows(feed_server):
    profile = {**PROFILE, "fields": {**PROFILE["fields"], "name": "titel"}}
    body = {"items": [{**ITEM, "sku": f"NT-{n}"} for n in range(10)]}
    feed_server.route("/feed.json", body=json.dumps(body).encode())
    source = source_for(feed_server.url("/feed.json"), format="json", format_options={"items_path": "items"})
    result = read_all(source, profile, max_rows=3)
    assert "name ← titel: not found in any of the first 3 items; did you mean title?" in result.stats.warnings
