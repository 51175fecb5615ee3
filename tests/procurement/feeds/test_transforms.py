"""Every mapper transform, as pure functions (no database, no network)."""

import re
from decimal import Decimal

import pytest

from procurement.feeds.transforms import TransformError, transform_build


def run(given, **spec):
    return transform_build(spec)(given)


class TestText:
    def test_trim_strips_and_collapses_whitespace(self):
        assert run("  LG \t OLED\n55 ", type="trim") == "LG OLED 55"
        assert run([" a ", " b  c"], type="trim") == ["a", "b c"]
        assert run(None, type="trim") is None

    def test_lower_and_upper(self):
        assert run("Não Disponível", type="lower") == "não disponível"
        assert run("sm-a556b", type="upper") == "SM-A556B"

    def test_strip_html_removes_tags_scripts_and_decodes_entities(self):
        html = "<p>Frigor&iacute;fico<br>Inox</p><script>alert(1)</script><b>A&amp;B</b>"
        assert run(html, type="strip_html") == "Frigorífico Inox A&B"

    def test_replace_is_plain_text(self):
        assert run("12.99 EUR", type="replace", old=".", new=",") == "12,99 EUR"
        assert run("a-b-c", type="replace", old="-") == "abc"

    def test_regex_extracts_a_group_or_the_match(self):
        assert run("Ref: SM-A556B (new)", type="regex", pattern=r"Ref: (\S+)") == "SM-A556B"
        assert run("Peso 1,7 kg", type="regex", pattern=r"\d+,\d+") == "1,7"
        assert (
            run("EAN 5600000010075", type="regex", pattern=r"(?P<ean>\d{13})", group="ean") == "5600000010075"
        )

    def test_regex_without_a_match_gives_an_empty_value(self):
        assert run("nothing", type="regex", pattern=r"(\d+)") == ""

    def test_default_fills_missing_or_empty_values_only(self):
        assert run(None, type="default", value="Genérico") == "Genérico"
        assert run("  ", type="default", value="Genérico") == "Genérico"
        assert run([], type="default", value="x") == "x"
        assert run("LG", type="default", value="Genérico") == "LG"
        assert run(0, type="default", value=5) == 0

    def test_constant_replaces_the_value(self):
        assert run("anything", type="constant", value="Samsung") == "Samsung"


class TestLists:
    def test_join_skips_empty_values(self):
        assert (
            run(["Informática", "", None, " Portáteis "], type="join", separator=" > ")
            == "Informática > Portáteis"
        )
        assert run(["a", "b"], type="join") == "a b"
        assert run("already text", type="join") == "already text"

    def test_split_makes_a_list_without_empty_parts(self):
        assert run("A/B//C ", type="split", separator="/") == ["A", "B", "C"]


class TestMap:
    def test_map_looks_values_up_ignoring_case_and_accents(self):
        spec = {"type": "map", "values": {"Disponível": "10", "sob encomenda": "0"}}
        assert transform_build(spec)("DISPONIVEL") == "10"
        assert transform_build(spec)("Sob  Encomenda") == "0"
        assert transform_build({"type": "map", "values": {"A-1": "x"}})("A 1") == "A 1"  # punctuation counts

    def test_map_keeps_unknown_values_unless_there_is_a_default(self):
        assert run("other", type="map", values={"a": "b"}) == "other"
        assert run("other", type="map", values={"a": "b"}, default="?") == "?"


class TestDecimal:
    @pytest.mark.parametrize(
        ("text", "settings", "expected"),
        [
            ("12.99", {}, "12.99"),
            ("1.234,56", {"decimal_separator": ",", "thousands_separator": "."}, "1234.56"),
            ("342,16", {"decimal_separator": ","}, "342.16"),
            ("1 234,56", {"decimal_separator": ",", "thousands_separator": " "}, "1234.56"),
            ("1\u00a0234,56", {"decimal_separator": ",", "thousands_separator": "."}, "1234.56"),
            ("1,234,567.5", {"thousands_separator": ","}, "1234567.5"),
            ("-3,00", {"decimal_separator": ","}, "-3.00"),
            ("+7", {}, "7"),
            (".5", {}, "0.5"),
        ],
    )
    def test_numbers_in_many_formats(self, text, settings, expected):
        assert run(text, type="decimal", **settings) == Decimal(expected)

    def test_json_numbers_pass_through_exactly(self):
        assert run(Decimal("338.87"), type="decimal") == Decimal("338.87")
        assert run(12, type="decimal") == Decimal(12)

    def test_empty_stays_missing(self):
        assert run("", type="decimal") is None
        assert run(None, type="decimal") is None

    @pytest.mark.parametrize(
        ("text", "settings", "message"),
        [
            ("abc", {}, '"abc" is not a number'),
            ("1,5", {}, '"1,5" is not a number'),
            ("1.2.3", {}, '"1.2.3" is not a number'),
            ("12,5,0", {"decimal_separator": ","}, '"12,5,0" is not a number'),
            ("NaN", {}, '"NaN" is not a number'),
            ("1.234", {"decimal_separator": ","}, '"1.234" is not a number'),  # never 1.234
            ("12.50", {"decimal_separator": ","}, '"12.50" is not a number'),
            (
                "12.5",
                {"decimal_separator": ",", "thousands_separator": "."},
                '"12.5" does not match the number format (thousands separator ".")',
            ),
        ],
    )
    def test_what_is_not_a_number_is_refused_not_guessed(self, text, settings, message):
        with pytest.raises(TransformError, match=re.escape(message)):
            run(text, type="decimal", **settings)


class TestCurrency:
    @pytest.mark.parametrize("text", ["12.99 EUR", "EUR 12.99", "€ 12.99", "12.99€", "12.99 eur", "12.99"])
    def test_the_expected_currency_is_stripped(self, text):
        assert run(text, type="currency", expect="EUR") == "12.99"

    def test_decimal_commas_and_spaces_survive_for_the_decimal_transform(self):
        assert run("1 234,56 €", type="currency", expect="EUR") == "1234,56"

    @pytest.mark.parametrize(("text", "found"), [("12.99 USD", "USD"), ("$12.99", "USD"), ("£ 5", "GBP")])
    def test_another_currency_rejects_the_row(self, text, found):
        with pytest.raises(TransformError, match=f'currency "{found}", expected "EUR"'):
            run(text, type="currency", expect="EUR")

    def test_what_is_not_a_price(self):
        with pytest.raises(TransformError, match='"twelve EUR" is not a price'):
            run("twelve EUR", type="currency", expect="EUR")

    def test_numbers_pass_through(self):
        assert run(Decimal("9.5"), type="currency", expect="EUR") == Decimal("9.5")


class TestMultiply:
    def test_multiply_converts_units_exactly(self):
        assert run("100", type="multiply", by="0.8130") == Decimal("81.3000")
        assert run(Decimal("2.5"), type="multiply", by=1000) == Decimal("2500.0")
        assert run(None, type="multiply", by="2") is None

    def test_multiply_refuses_text(self):
        with pytest.raises(TransformError, match='"a lot" is not a number'):
            run("a lot", type="multiply", by="2")


class TestStock:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("12", 12),
            ("12.0", 12),
            ("12,0", 12),
            (7, 7),
            (Decimal("3"), 3),
            (">10", 10),
            ("> 10", 10),
            (">=10", 10),
            ("+50", 50),
            ("50+", 50),
            ("<5", 4),
            ("<1", 0),
            ("<=5", 5),
            ("10-20", 10),
            ("10 - 20", 10),
            ("Sim", 5),
            ("yes", 5),
            ("In Stock", 5),
            ("in_stock", 5),
            ("available", 5),
            ("Disponível", 5),
            ("DISPONIVEL", 5),
            ("Não", 0),
            ("nao", 0),
            ("no", 0),
            ("out of stock", 0),
            ("out-of-stock", 0),
            ("Esgotado", 0),
            ("sem stock", 0),
            ("preorder", 0),
            ("backorder", 0),
            ("Sob Encomenda", 0),
            (True, 5),
            (False, 0),
            ("-2", -2),  # negative: the canonical row rejects it, with the value
        ],
    )
    def test_numbers_bounds_ranges_and_words(self, value, expected):
        assert run(value, type="stock", available_quantity=5) == expected

    def test_available_quantity_defaults_to_one(self):
        assert run("sim", type="stock") == 1

    def test_extra_words_are_matched_like_the_built_in_ones(self):
        assert run("Últimas unidades", type="stock", words={"ultimas unidades": 2}) == 2

    def test_an_unknown_word_rejects_the_row_naming_the_word(self):
        with pytest.raises(TransformError, match=r'unknown word "talvez" \(add it to the stock transform'):
            run("talvez", type="stock")

    def test_fractions_and_ambiguous_thousands_are_refused(self):
        with pytest.raises(TransformError, match=re.escape('"2.5" is not a whole number')):
            run("2.5", type="stock")
        with pytest.raises(TransformError, match=re.escape('"1.000" is ambiguous')):
            run("1.000", type="stock")
        with pytest.raises(TransformError, match="is not a whole number"):
            run(Decimal("2.5"), type="stock")

    def test_empty_stays_missing(self):
        assert run("", type="stock") is None
