"""Canonical rows: what is rejected (and why, with the value), what is cleaned, cut or warned about."""

from decimal import Decimal

import pytest

from procurement.feeds.mapping import MappedRow, RawItem, RowRejection, profile_compile
from tests.support.feeds import read_all, source_for

PT_PROFILE = {
    "fields": {
        "sku": "sku",
        "gtin": "ean",
        "brand": "brand",
        "partnumber": "mpn",
        "name": "name",
        "price": {
            "source": "price",
            "transforms": [{"type": "decimal", "decimal_separator": ",", "thousands_separator": "."}],
        },
        "stock": {"source": "stock", "transforms": [{"type": "stock", "available_quantity": 5}]},
    },
    "meta": "none",
}


def read_pt(feed_server, *lines):
    body = "sku;ean;brand;mpn;name;price;stock\n" + "".join(line + "\n" for line in lines)
    feed_server.route("/feed.csv", body=body.encode())
    return read_all(source_for(feed_server.url("/feed.csv")), PT_PROFILE)


class TestThroughTheServer:
    def test_decimal_commas_and_thousands(self, feed_server):
        result = read_pt(
            feed_server, "A1;5600000010075;LG;X;TV;1.171,98;>10", "A2;5600000010143;LG;Y;TV;0,5;Sim"
        )
        assert [(r.price, r.stock) for r in result.rows] == [
            (Decimal("1171.9800"), 10),
            (Decimal("0.5000"), 5),
        ]

    def test_negative_numbers_are_rejected_with_the_value_as_received(self, feed_server):
        result = read_pt(feed_server, "A1;5600000010075;LG;X;TV;-3,00;1", "A2;5600000010143;LG;Y;TV;3,00;-2")
        assert [(r.line, r.reason) for r in result.rejections] == [
            (2, 'price: "-3,00" is negative'),
            (3, 'stock: "-2" is negative'),
        ]

    def test_a_price_of_zero_is_valid(self, feed_server):
        result = read_pt(feed_server, "A1;5600000010075;LG;X;TV;0,00;1")
        assert result.rows[0].price == Decimal("0.0000")

    def test_absurd_numbers_are_rejected(self, feed_server):
        result = read_pt(
            feed_server, "A1;5600000010075;LG;X;TV;1.000.000,01;1", "A2;5600000010143;LG;Y;TV;1;1000001"
        )
        assert [r.reason for r in result.rejections] == [
            'price: "1.000.000,01" is absurd (more than 1,000,000)',
            'stock: "1000001" is absurd (more than 1,000,000)',
        ]

    def test_missing_and_unparsable_required_fields(self, feed_server):
        result = read_pt(feed_server, ";5600000010075;LG;X;TV;;", "A2;5600000010143;LG;Y;TV;abc;talvez")
        assert [r.reason for r in result.rejections] == [
            "sku: missing; price: missing; stock: missing",
            'price: "abc" is not a number; '
            'stock: unknown word "talvez" (add it to the stock transform\'s words)',
        ]

    def test_html_in_names_is_stripped_and_entities_decoded(self, feed_server):
        result = read_pt(
            feed_server, 'A1;5600000010075;LG;X;"<b>LG</b> OLED 55&quot; &amp; <i>Soundbar</i>";1;1'
        )
        assert result.rows[0].name == 'LG OLED 55" & Soundbar'

    def test_gtins_with_spaces_or_hyphens(self, feed_server):
        result = read_pt(feed_server, "A1;560 0000 01007 5;LG;X;TV;1;1", "A2;5-600000-010143;LG;Y;TV;1;1")
        assert [r.gtin for r in result.rows] == ["05600000010075", "05600000010143"]
        assert result.rows[0].gtin_raw == "560 0000 01007 5"

    def test_gtins_in_scientific_notation_fall_back_to_brand_and_part_number(self, feed_server):
        result = read_pt(feed_server, "A1;1,76701E+15;LG;OLED55C44LA;TV;1;1", "A2;1,76701E+15;;;TV;1;1")
        (row,) = result.rows
        assert row.gtin is None
        assert row.gtin_raw == "1,76701E+15"
        assert row.warnings == (
            'gtin "1,76701E+15": scientific notation lost digits (spreadsheet export); '
            "using brand + part number",
        )
        assert result.rejections[0].reason == (
            'no valid GTIN and no brand + part number (gtin "1,76701E+15": scientific notation lost digits '
            "(spreadsheet export))"
        )

    def test_a_bad_check_digit_with_brand_and_part_number_is_a_warning(self, feed_server):
        result = read_pt(feed_server, "A1;4006381333932;Bosch;WAN28282ES;Washer;1;1")
        assert result.rows[0].warnings == (
            'gtin "4006381333932": check digit does not match; using brand + part number',
        )

    def test_no_identity_at_all_is_rejected_naming_what_is_missing(self, feed_server):
        result = read_pt(feed_server, "A1;;LG;;TV;1;1", "A2;;;X;TV;1;1", "A3;;;;TV;1;1")
        assert [r.reason for r in result.rejections] == [
            "no valid GTIN and no part number (brand + part number identify a product)",
            "no valid GTIN and no brand (brand + part number identify a product)",
            "no valid GTIN and no brand + part number",
        ]

    def test_a_gtin_written_as_float_text_is_read(self, feed_server):
        result = read_pt(feed_server, "A1;5600000010280.0;;;TV;1;1")
        assert result.rows[0].gtin == "05600000010280"
        assert result.rows[0].warnings == ()

    def test_a_gtin_of_nine_to_eleven_digits_is_read_with_a_warning(self, feed_server):
        result = read_pt(feed_server, "A1;36000291452;;;Tissues;1;1")
        assert result.rows[0].gtin == "00036000291452"
        assert result.rows[0].warnings == (
            'gtin "36000291452": 11 digits, read as 00036000291452 (leading zeros lost, e.g. by a '
            "spreadsheet?)",
        )


def build(**item) -> MappedRow | RowRejection:
    profile = {
        "fields": {
            name: name
            for name in (
                "sku",
                "price",
                "stock",
                "gtin",
                "partnumber",
                "brand",
                "name",
                "description",
                "image_url",
            )
        }
        | {"weight": "weight", "category": "category"},
        "meta": "rest",
    }
    data = {"sku": "A1", "price": "10", "stock": "1", "gtin": "5600000010075", **item}
    return profile_compile(profile=profile).item_map(RawItem(1, data))


class TestCleaning:
    def test_text_fields_are_stripped_and_collapsed(self):
        row = build(sku="  A1 ", brand="  Western   Digital ", partnumber=" WDS100T3X0E ")
        assert (row.sku, row.brand, row.partnumber) == ("A1", "Western Digital", "WDS100T3X0E")

    def test_price_is_quantized(self):
        assert build(price="10.123456").price == Decimal("10.1235")

    def test_a_decimal_comma_without_a_decimal_transform_is_refused_with_a_hint(self):
        assert build(price="10,50").reason == (
            'price: "10,50" is not a number (add a decimal transform with "decimal_separator": ",")'
        )

    def test_stock_words_need_the_stock_transform(self):
        assert build(stock="Sim").reason.startswith(
            'stock: "Sim" is not a whole number (a stock transform reads'
        )

    def test_long_values_are_cut_with_a_warning_or_dropped(self):
        row = build(name="N" * 300, description="D" * 20_001, partnumber="P" * 101, brand="B" * 130)
        assert len(row.name) == 255 and len(row.description) == 20_000 and len(row.brand) == 120
        assert row.partnumber == ""
        assert row.warnings == (
            "partnumber: 101 characters; the limit is 100; ignored",
            "brand: 130 characters, cut to 120",
            "name: 300 characters, cut to 255",
            "description: 20001 characters, cut to 20000",
        )

    def test_a_sku_over_255_characters_is_rejected(self):
        assert build(sku="S" * 256).reason == "sku: 256 characters; the limit is 255"

    def test_the_description_keeps_its_html(self):
        assert build(description=" <p>Bom &amp; barato</p> ").description == "<p>Bom &amp; barato</p>"

    @pytest.mark.parametrize(
        ("url", "kept"),
        [
            ("https://img.example/a.jpg", True),
            ("http://img.example/a.jpg", True),
            ("ftp://img.example/a.jpg", False),
            ("javascript:alert(1)", False),
            ("img.example/a.jpg", False),
            ("https://img.example/a b.jpg", False),
            ("https://img.example/" + "a" * 1000, False),
        ],
    )
    def test_image_urls_must_be_http(self, url, kept):
        row = build(image_url=url)
        assert row.image_url == (url if kept else "")
        assert bool(row.warnings) is not kept

    @pytest.mark.parametrize(
        ("weight", "expected", "warned"),
        [
            ("1.7", Decimal("1.700"), False),
            ("0.0005", Decimal("0.001"), False),
            ("-1", None, True),
            ("heavy", None, True),
            ("", None, False),
        ],
    )
    def test_weight(self, weight, expected, warned):
        row = build(weight=weight)
        assert row.weight == expected
        assert bool(row.warnings) is warned

    def test_category_paths(self):
        assert build(category=" Informática >  Portáteis > ").category == ("Informática", "Portáteis")
        assert build(category=["Imagem &amp; Som", "TV > OLED"]).category == ("Imagem & Som", "TV", "OLED")

    def test_meta_limits(self):
        row = build(**{"k" * 101: "v", "long": "x" * 2001, "blank": "  "})
        assert row.meta == {"long": "x" * 2000}
        assert row.warnings == (
            f'meta key "{"k" * 59}…" is longer than 100 characters; ignored',
            'meta "long": 2001 characters, cut to 2000',
        )

    def test_a_number_a_spreadsheet_shortened_is_kept_as_an_attribute_with_a_warning(self):
        row = build(ean2="1,76701E+15", size="2E+3x")
        assert row.meta == {"ean2": "1,76701E+15", "size": "2E+3x"}
        assert row.warnings == (
            'meta "ean2": "1,76701E+15" looks like a number a spreadsheet shortened to scientific '
            "notation; its digits are lost (export the column as text)",
        )

    def test_a_list_where_one_value_is_expected(self):
        assert (
            build(sku=["A", "B"]).reason
            == 'sku: a list of 2 values; pick one ("source.0") or add a join transform'
        )
        assert build(sku=["A"]).sku == "A"

    def test_the_row_hash_is_stable_and_follows_the_content(self):
        first, again = build(), build()
        assert first.row_hash == again.row_hash
        assert len(first.row_hash) == 64
        assert build(price="10.00").row_hash == first.row_hash  # same canonical price
        assert build(price="11").row_hash != first.row_hash
        assert build(extra="meta").row_hash != first.row_hash
        # Pinned: a change to the canonical encoding would make every offer look changed once.
        assert first.row_hash == "f843098a17f61a2a442cf4a9e0fe1fa6d48a90050a3435e54541075c5e47a035"


class TestControlCharacters:
    """NUL, other C0 controls, DEL and lone surrogates cannot be stored: removed, with a warning."""

    def test_every_text_field_loses_them_with_a_warning_naming_the_field(self):
        row = build(
            sku="A\x001",
            gtin="5600000010075\x00",
            partnumber="PN\x07-1",
            brand="Sam\x1bsung",
            name="Galaxy\x00 A55",
            description="<p>Bom\x0b</p>\x7f",
            image_url="https://img.example/a\x00.jpg",
            category=["Tele\x00móveis", "Smart\x08phones"],
            colour="pre\x00to",
            **{"size\x00": "6,1\ud800"},
        )
        assert isinstance(row, MappedRow), row
        assert (row.sku, row.gtin, row.gtin_raw, row.partnumber, row.brand) == (
            "A1",
            "05600000010075",
            "5600000010075",
            "PN-1",
            "Samsung",
        )
        assert (row.name, row.description, row.image_url) == (
            "Galaxy A55",
            "<p>Bom</p>",
            "https://img.example/a.jpg",
        )
        assert row.category == ("Telemóveis", "Smartphones")
        assert row.meta == {"colour": "preto", "size": "6,1"}
        assert row.warnings == (
            'meta "colour": control characters removed',
            'meta key "size\\x00": control characters removed',
            'meta "size": control characters removed',
            "sku: control characters removed",
            "gtin: control characters removed",
            "partnumber: control characters removed",
            "brand: control characters removed",
            "name: control characters removed",
            "description: control characters removed",
            "image_url: control characters removed",
            "category: control characters removed",
        )

    def test_tabs_and_newlines_are_text_not_controls(self):
        row = build(description="linha 1\nlinha 2\tfim\r\n")
        assert row.description == "linha 1\nlinha 2\tfim"
        assert row.warnings == ()

    def test_a_sku_of_nothing_but_controls_is_missing(self):
        assert build(sku="\x00\x01").reason == "sku: missing"

    def test_a_rejection_quotes_them_as_escapes_so_that_it_can_be_stored(self):
        rejection = build(price="1\x00x", note="a\x00b")
        assert rejection.reason == 'price: "1\\x00x" is not a number'
        assert rejection.raw["price"] == "1\\x00x"
        assert rejection.raw["note"] == "a\\x00b"
        assert "\x00" not in repr(rejection.raw)

    def test_a_lone_surrogate_from_json_lines_is_removed(self, feed_server):
        line = b'{"sku": "A\\ud8001", "price": 1, "stock": 2, "gtin": "5600000010075"}\n'
        feed_server.route("/feed.jsonl", body=line)
        profile = {
            "fields": {"sku": "sku", "price": "price", "stock": "stock", "gtin": "gtin"},
            "meta": "none",
        }
        source = source_for(feed_server.url("/feed.jsonl"), format="json", format_options={"lines": True})
        result = read_all(source, profile)
        assert result.error is None, result.error
        assert result.skus == ["A1"]
        assert result.rows[0].warnings == ("sku: control characters removed",)


class TestPriceTraps:
    """Rounding and number formats must never turn a bad price into a free or absurd product."""

    @pytest.mark.parametrize("price", ["0.00001", "0.00004999", "1E-9999"])
    def test_a_positive_price_that_rounds_to_zero_is_rejected(self, price):
        assert build(price=price if price[0] != "1" else Decimal(price)).reason == (
            f'price: "{Decimal(price) if price[0] == "1" else price}" rounds to 0 at 4 decimal places; '
            "a price is 0 (not for sale) or at least 0.0001"
        )

    def test_the_smallest_positive_price_survives_rounding(self):
        assert build(price="0.00005").price == Decimal("0.0001")

    def test_negative_zero_is_zero(self):
        row = build(price="-0.00")
        assert str(row.price) == "0.0000"
        assert row.row_hash == build(price="0").row_hash

    def test_a_tiny_negative_price_is_negative(self):
        assert build(price="-0.00001").reason == 'price: "-0.00001" is negative'

    @pytest.mark.parametrize("price", ["1e9999", "1E3", "NaN", "Infinity", "-inf", "0x10", "1_000"])
    def test_exponents_and_special_values_written_as_text_are_not_numbers(self, price):
        assert build(price=price).reason == f'price: "{price}" is not a number'

    @pytest.mark.parametrize("price", [Decimal("1E+9999"), Decimal("1E+999999"), 10**30])
    def test_huge_numbers_beyond_the_column_are_absurd(self, price):
        assert build(price=price).reason == f'price: "{price}" is absurd (more than 1,000,000)'

    @pytest.mark.parametrize("price", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
    def test_special_decimals_are_not_numbers(self, price):
        assert build(price=price).reason == f'price: "{price}" is not a number'

    def test_json_numbers_in_exponent_notation(self, feed_server):
        body = b'[{"sku": "A", "price": 1e9999, "stock": 1, "gtin": "5600000010075"},\n'
        body += b' {"sku": "B", "price": 1e-9999, "stock": 1, "gtin": "5600000010075"},\n'
        body += b' {"sku": "C", "price": 1.5e2, "stock": 1, "gtin": "5600000010075"}]'
        feed_server.route("/feed.json", body=body)
        profile = {
            "fields": {"sku": "sku", "price": "price", "stock": "stock", "gtin": "gtin"},
            "meta": "none",
        }
        result = read_all(source_for(feed_server.url("/feed.json"), format="json"), profile)
        assert result.error is None, result.error
        assert [(row.sku, row.price) for row in result.rows] == [("C", Decimal("150.0000"))]
        assert [r.reason for r in result.rejections] == [
            'price: "1E+9999" is absurd (more than 1,000,000)',
            'price: "1E-9999" rounds to 0 at 4 decimal places; '
            "a price is 0 (not for sale) or at least 0.0001",
        ]

    def test_a_multiplied_price_that_overflows_is_a_rejection_not_a_crash(self):
        profile = {
            "fields": {
                "sku": "sku",
                "gtin": "gtin",
                "stock": "stock",
                "price": {"source": "price", "transforms": [{"type": "multiply", "by": "1E+999999"}]},
            },
            "meta": "none",
        }
        item = RawItem(1, {"sku": "A", "gtin": "5600000010075", "stock": "1", "price": Decimal("1E+999999")})
        rejection = profile_compile(profile=profile).item_map(item)
        assert rejection.reason == 'price: "1E+999999" times 1E+999999 is out of range'

    @pytest.mark.parametrize("stock", ["9" * 5000, Decimal("1E+999999")])
    def test_a_stock_with_thousands_of_digits_is_absurd_not_a_crash(self, stock):
        assert build(stock=stock).reason.startswith("stock: ")
        assert build(stock=stock).reason.endswith(" is absurd (more than 1,000,000)")
