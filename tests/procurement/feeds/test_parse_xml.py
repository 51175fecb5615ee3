"""XML: Google Merchant feeds map with no code; hostile documents are refused, never expanded."""

from decimal import Decimal

import pytest

from tests.support.feeds import read_all, source_for

GOOGLE_PROFILE = {
    "fields": {
        "sku": "g:id",
        "gtin": "g:gtin",
        "partnumber": "g:mpn",
        "brand": "g:brand",
        "name": "title",
        "category": "g:product_type",
        "image_url": "g:image_link",
        "price": {
            "source": "g:price",
            "transforms": [{"type": "currency", "expect": "EUR"}, {"type": "decimal"}],
        },
        "stock": {"source": "g:availability", "transforms": [{"type": "stock", "available_quantity": 3}]},
    },
    "meta": "rest",
}


def rss(*items: str, namespace: str = 'xmlns:g="http://base.google.com/ns/1.0"') -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" {namespace}><channel>'
        f"<title>Shop</title><link>https://shop.example</link>{body}</channel></rss>"
    ).encode()


ITEM = (
    "<g:id>EE-1</g:id><title><![CDATA[Samsung <b>Galaxy</b> A55 &amp; case]]></title>"
    "<g:gtin>5600000010075</g:gtin><g:mpn>SM-A556B</g:mpn><g:brand>Samsung</g:brand>"
    "<g:price>325.71 EUR</g:price><g:availability>in stock</g:availability>"
    "<g:product_type>Telemóveis &gt; Smartphones</g:product_type>"
    "<g:image_link>https://cdn.example/1.jpg</g:image_link><g:condition>new</g:condition>"
    '<g:shipping><g:country>PT</g:country><g:price currency="EUR">4.99</g:price></g:shipping>'
    "<g:additional_image_link>https://cdn.example/1b.jpg</g:additional_image_link>"
    "<g:additional_image_link>https://cdn.example/1c.jpg</g:additional_image_link>"
)


def read_xml(feed_server, body: bytes, profile=GOOGLE_PROFILE, **options):
    feed_server.route("/feed.xml", body=body)
    return read_all(
        source_for(
            feed_server.url("/feed.xml"), format="xml", format_options={"item_tag": "item", **options}
        ),
        profile,
    )


def test_a_google_merchant_feed_maps_with_no_code(feed_server):
    result = read_xml(
        feed_server, rss(ITEM, ITEM.replace("EE-1", "EE-2").replace("in stock", "out_of_stock"))
    )
    assert result.error is None
    first, second = result.rows
    assert (first.sku, first.line, first.price, first.stock) == ("EE-1", 1, Decimal("325.7100"), 3)
    assert first.gtin == "05600000010075"
    assert (first.brand, first.partnumber) == ("Samsung", "SM-A556B")
    assert first.name == "Samsung Galaxy A55 & case"
    assert first.category == ("Telemóveis", "Smartphones")
    assert first.image_url == "https://cdn.example/1.jpg"
    assert first.meta == {
        "g:condition": "new",
        "g:shipping.g:country": "PT",
        "g:shipping.g:price": "4.99",
        "g:shipping.g:price.@currency": "EUR",
        "g:additional_image_link": '["https://cdn.example/1b.jpg", "https://cdn.example/1c.jpg"]',
    }
    assert (second.sku, second.line, second.stock) == ("EE-2", 2, 0)


def test_a_price_in_another_currency_rejects_the_row(feed_server):
    result = read_xml(feed_server, rss(ITEM.replace("325.71 EUR", "12.99 USD")))
    assert result.rejections[0].reason == 'price: currency "USD", expected "EUR" ("12.99 USD")'


def test_nested_paths_attributes_and_repeated_elements(feed_server):
    profile = {
        "fields": {
            "sku": "@id",
            "gtin": "g:gtin",
            "price": "g:shipping.g:price",
            "stock": {"constant": 1},
            "image_url": "g:additional_image_link.1",
        },
        "meta": ["g:shipping.g:price.@currency"],
    }
    result = read_xml(feed_server, rss(ITEM).replace(b"<item>", b'<item id="X-9">'), profile)
    (row,) = result.rows
    assert (row.sku, row.price, row.image_url) == ("X-9", Decimal("4.9900"), "https://cdn.example/1c.jpg")
    assert row.meta == {"g:shipping.g:price.@currency": "EUR"}


def test_a_prefixed_item_tag_and_prefixes_from_the_settings(feed_server):
    body = (
        b'<feed xmlns:p="urn:products" xmlns:x="urn:other">'
        b"<p:product><p:sku>A1</p:sku><p:ean>5600000010075</p:ean>"
        b"<p:price>1.50</p:price><p:qty>2</p:qty></p:product><x:product><p:sku>NO</p:sku></x:product></feed>"
    )
    profile = {"fields": {"sku": "s:sku", "gtin": "s:ean", "price": "s:price", "stock": "s:qty"}}
    result = read_xml(feed_server, body, profile, item_tag="s:product", namespaces={"s": "urn:products"})
    assert result.skus == ["A1"]
    assert result.rejections == []


def test_a_default_namespace_matches_a_plain_item_tag(feed_server):
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0"><entry>'
        b"<g:id>A1</g:id><g:gtin>5600000010075</g:gtin><g:price>2 EUR</g:price><g:availability>sim"
        b"</g:availability></entry></feed>"
    )
    result = read_xml(feed_server, body, item_tag="entry")
    assert result.skus == ["A1"]


def test_no_matching_item_is_a_warning_not_a_silent_success(feed_server):
    result = read_xml(feed_server, rss(ITEM), item_tag="product")
    assert result.rows == []
    assert result.stats.warnings == [
        "No <product> element in the XML (format_options.item_tag); its root element is <rss>."
    ]


def test_malformed_xml_stops_the_read_after_the_items_before_it(feed_server):
    body = rss(ITEM, ITEM.replace("EE-1", "EE-2")).replace(b"</channel>", b"</chanel>")
    result = read_xml(feed_server, body)
    assert result.skus == ["EE-1", "EE-2"]
    assert str(result.error).startswith("Malformed XML at line 2, column")
    assert "Opening and ending tag mismatch: channel" in str(result.error)
    assert result.error.phase == "parse"


def test_a_truncated_document_stops_the_read(feed_server):
    result = read_xml(feed_server, rss(ITEM, ITEM)[:-300])
    assert str(result.error).startswith("Malformed XML at line")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss><item><id>&lol9;</id><gtin>5600000010075</gtin><price>1</price><stock>1</stock></item></rss>"""
REFUSED = (
    "The XML declares a DTD with entities or elements; such documents are refused "
    "(entity expansion and external entities are attack vectors)."
)
PLAIN_PROFILE = {"fields": {"sku": "id", "gtin": "gtin", "price": "price", "stock": "stock"}}


def test_entity_expansion_billion_laughs_is_refused(feed_server):
    result = read_xml(feed_server, BILLION_LAUGHS, PLAIN_PROFILE)
    assert str(result.error) == REFUSED
    assert result.rows == [] and result.rejections == []


@pytest.mark.parametrize("entity", ['SYSTEM "file://{path}"', 'SYSTEM "{path}"'])
def test_an_external_entity_never_reads_a_local_file(feed_server, tmp_path, entity):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe {entity.format(path=secret)}>]>'
        "<rss><item><id>&xxe;</id><gtin>5600000010075</gtin><price>1</price><stock>1</stock></item></rss>"
    ).encode()
    result = read_xml(feed_server, body, PLAIN_PROFILE)
    assert str(result.error) == REFUSED
    everything = repr(result)
    assert "TOP-SECRET" not in everything


def test_a_parameter_entity_is_refused_too(feed_server, tmp_path):
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % ext SYSTEM "file://{tmp_path}/x.dtd"> %ext;]>'
        "<rss><item><id>A</id></item></rss>"
    ).encode()
    result = read_xml(feed_server, body, PLAIN_PROFILE)
    assert str(result.error) == REFUSED


def test_a_plain_doctype_without_declarations_is_fine(feed_server):
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss><item><id>A</id><gtin>5600000010075</gtin>'
        b"<price>1</price><stock>1</stock></item></rss>"
    )
    result = read_xml(feed_server, body, PLAIN_PROFILE)
    assert result.skus == ["A"]


def test_an_undeclared_entity_is_malformed_xml(feed_server):
    result = read_xml(feed_server, b"<rss><item><id>&nope;</id></item></rss>", PLAIN_PROFILE)
    assert str(result.error).startswith("Malformed XML")


def test_a_large_feed_streams_through(feed_server):
    item = "<item><id>A{n}</id><gtin>5600000010075</gtin><price>1.5</price><stock>2</stock></item>"

    def body(request):
        yield b"<rss><channel>"
        for start in range(0, 20_000, 1000):
            yield "".join(item.format(n=n) for n in range(start, start + 1000)).encode()
        yield b"</channel></rss>"

    feed_server.route("/feed.xml", body=body)
    result = read_all(source_for(feed_server.url("/feed.xml"), format="xml"), PLAIN_PROFILE)
    assert len(result.rows) == 20_000
    assert result.rows[-1].sku == "A19999"


def test_a_mapped_source_absent_from_every_item_is_a_feed_warning_with_a_suggestion(feed_server):
    profile = {**GOOGLE_PROFILE, "fields": {**GOOGLE_PROFILE["fields"], "name": "g:title", "weight": "peso"}}
    result = read_xml(feed_server, rss(ITEM, ITEM.replace("EE-1", "EE-2")), profile)
    assert result.skus == ["EE-1", "EE-2"]
    assert (
        "name ← g:title: not found in any of the first 2 items; did you mean title?" in result.stats.warnings
    )
    assert "weight ← peso: not found in any of the first 2 items" in result.stats.warnings


def test_a_source_found_in_some_items_is_not_a_warning(feed_server):
    profile = {**GOOGLE_PROFILE, "fields": {**GOOGLE_PROFILE["fields"], "weight": "g:shipping_weight"}}
    other = ITEM.replace("EE-1", "EE-2") + "<g:shipping_weight>2 kg</g:shipping_weight>"
    result = read_xml(feed_server, rss(ITEM, other), profile)
    assert not any("not found" in warning for warning in result.stats.warnings)
