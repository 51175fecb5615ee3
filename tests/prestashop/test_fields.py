"""PrestaShop's field rules, without HTTP."""

from decimal import Decimal

import pytest

from prestashop.errors import ShopValidationError
from prestashop.fields import (
    catalog_name,
    clean_text,
    ean13_for_shop,
    filter_value_is_exact,
    format_decimal,
    link_rewrite,
    localized,
    prepare_product,
    validate_reference,
)
from prestashop.types import ProductUpdate, ShopLanguage
from tests.prestashop.conftest import draft

LANGUAGES = [ShopLanguage(1, "pt", "Português"), ShopLanguage(2, "en", "English")]


def test_clean_text_drops_control_characters_but_keeps_whitespace():
    assert clean_text("a\x00b\x08c\x0bd\x0ce\x1ff\x7fg\tH\nI\rJ") == "abcdefg\tH\nI\rJ"


@pytest.mark.parametrize("reference", ["", "   ", "A" * 65, "SKU<1>", "a;b", "a=b", "a{b}"])
def test_references_the_shop_refuses_are_refused_not_changed(reference):
    with pytest.raises(ShopValidationError):
        validate_reference(reference)


def test_a_valid_reference_is_trimmed():
    assert validate_reference("  LNV-82H8-001  ") == "LNV-82H8-001"
    assert validate_reference("A" * 64) == "A" * 64


@pytest.mark.parametrize(
    ("value", "exact"),
    [("SKU-1", True), ("A|B", False), ("[x]", False), ("50%", False), ("12,34", False), ("a,b", True)],
)
def test_filter_values_that_prestashop_would_read_as_or_range_or_like(value, exact):
    assert filter_value_is_exact(value) is exact


def test_catalog_name_replaces_what_isCatalogName_refuses():
    assert catalog_name('TV 55" <4K>; HDR {2024} #1 = top') == 'TV 55" 4K , HDR 2024 1 top'
    assert len(catalog_name("x" * 300)) == 128


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Máquina de Lavar Roupa 9kg", "maquina-de-lavar-roupa-9kg"),
        ("Frigorífico Combinado — Inox", "frigorifico-combinado-inox"),
        ("Straße & Æble", "strasse-aeble"),
        ("€€€", "product"),
    ],
)
def test_link_rewrite_folds_accents_and_matches_prestashop_pattern(text, slug):
    assert link_rewrite(text) == slug


def test_link_rewrite_is_at_most_128_characters():
    assert len(link_rewrite("palavra " * 40)) <= 128
    assert not link_rewrite("palavra " * 40).endswith("-")


def test_prices_have_six_decimals_half_up():
    assert format_decimal(Decimal("8.4033613"), field_name="price") == "8.403361"
    assert format_decimal(Decimal("8.4033615"), field_name="price") == "8.403362"
    assert format_decimal(Decimal("20"), field_name="price") == "20.000000"
    assert format_decimal(Decimal("1E+2"), field_name="price") == "100.000000"


@pytest.mark.parametrize("value", [Decimal("-1"), Decimal("NaN"), Decimal("Infinity"), Decimal("1E+11")])
def test_prices_the_shop_refuses(value):
    with pytest.raises(ShopValidationError):
        format_decimal(value, field_name="price")


def test_ean13_only_for_codes_that_fit_13_digits():
    assert ean13_for_shop("04006381333931") == "4006381333931"
    assert ean13_for_shop("00820650851230") == "0820650851230"  # UPC-A
    assert ean13_for_shop("00000096385074") == "0000096385074"  # GTIN-8
    assert ean13_for_shop("14006381333938") is None  # a real GTIN-14 is not sent
    assert ean13_for_shop(None) is None
    assert ean13_for_shop("") is None
    with pytest.raises(ShopValidationError):
        ean13_for_shop("4006-381")


def test_localized_texts_cover_every_shop_language():
    assert localized({"pt-pt": "Olá", "en": "Hello"}, LANGUAGES) == {1: "Olá", 2: "Hello"}
    assert localized({"pt": "Olá"}, LANGUAGES) == {1: "Olá", 2: "Olá"}
    assert localized({}, LANGUAGES) == {1: "", 2: ""}


def test_prepare_product_shapes_a_draft_for_the_shop():
    product = prepare_product(draft(category_ids=(3, 4, 3)), languages=LANGUAGES)
    assert product.reference == "SKU-1"
    assert product.ean13 == "4006381333931"
    assert product.price == "499.990000"
    assert product.weight == "1.600000"
    assert product.category_ids == (4, 3)  # the default first, no duplicates
    assert product.names == {1: "Portátil Lenovo IdeaPad 15", 2: "Lenovo IdeaPad 15 laptop"}
    assert product.link_rewrites == {1: "portatil-lenovo-ideapad-15", 2: "lenovo-ideapad-15-laptop"}
    assert product.idempotency_key == "reference:SKU-1"


def test_prepare_product_refuses_drafts_without_name_or_category():
    with pytest.raises(ShopValidationError):
        prepare_product(draft(names={"pt": "<>"}), languages=LANGUAGES)
    with pytest.raises(ShopValidationError):
        prepare_product(draft(id_category_default=0), languages=LANGUAGES)
    with pytest.raises(ShopValidationError):
        prepare_product(draft(), languages=[])


def test_product_update_refuses_meaningless_values():
    with pytest.raises(ValueError, match="changes nothing"):
        ProductUpdate(1)
    with pytest.raises(ValueError):
        ProductUpdate(1, quantity=-1)
    with pytest.raises(ValueError):
        ProductUpdate(1, price=Decimal("-0.01"))
    with pytest.raises(ValueError):
        ProductUpdate(0, active=True)
    assert ProductUpdate(1, active=False, price=Decimal(1)).fields == ("price", "active")
