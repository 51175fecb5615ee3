import pytest

from catalog.gtin import gtin_check_digit, gtin_is_restricted, gtin_normalize, gtin_to_ean13


@pytest.mark.parametrize(
    "raw",
    ["4006381333931", "04006381333931", "4006-3813 33931", " 4006381333931 ", 4006381333931, 4006381333931.0],
)
def test_forms_of_one_ean13_normalise_to_the_same_gtin14(raw):
    assert gtin_normalize(raw).gtin == "04006381333931"


def test_upc_a_and_its_ean13_form_are_the_same_product():
    assert gtin_normalize("820650851230").gtin == gtin_normalize("0820650851230").gtin == "00820650851230"


def test_upc_with_leading_zero_dropped_by_a_spreadsheet_is_restored():
    # UPC-A 036000291452 typed into Excel becomes 36000291452 (11 digits)
    assert gtin_normalize("36000291452").gtin == "00036000291452"
    assert "11 digits" in gtin_normalize("36000291452").note  # worth a warning, not silent


def test_float_text_is_the_gtin_it_carries():
    assert gtin_normalize("5600000010280.0").gtin == "05600000010280"
    assert gtin_normalize("4006381333931,00").gtin == "04006381333931"
    assert gtin_normalize("4006381333931.0").note is None


def test_gtin14_with_packaging_indicator_is_kept():
    body = "1400638133393"
    code = body + str(gtin_check_digit(body))
    assert gtin_normalize(code).gtin == code


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("4006381333932", "check digit does not match"),
        ("1,76701E+15", "scientific notation lost digits (spreadsheet export)"),
        ("4.00638E+12", "scientific notation lost digits (spreadsheet export)"),
        ("12345", "5 digits; a GTIN has 8, 12, 13 or 14"),
        ("123456789012345", "15 digits; a GTIN has at most 14"),
        ("ABC-123", "contains characters other than digits"),
        ("0000000000000", "all zeros"),
        (True, "not a number"),
        (12.5, "not a whole number"),
    ],
)
def test_unusable_values_say_why(raw, problem):
    result = gtin_normalize(raw)
    assert result.gtin is None
    assert result.problem == problem


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_values_are_no_gtin_and_no_problem(raw):
    assert gtin_normalize(raw).gtin is None
    assert gtin_normalize(raw).problem is None


@pytest.mark.parametrize(
    "ean13",
    [
        "0212345678900",  # UPC number system 2: random weight
        "0412345678903",  # 04: company internal numbering
        "2012345678907",  # 20-29: in-store / variable measure
        "9812345678902",  # 981: coupons
        "9912345678902",  # 99: coupons
        "0512345678907",  # 05: coupons (UPC)
    ],
)
def test_restricted_and_coupon_ranges_never_identify_products(ean13):
    body = ean13[:12]
    code = body + str(gtin_check_digit(body))
    assert gtin_is_restricted(code.zfill(14))
    assert gtin_normalize(code).gtin is None
    assert gtin_normalize(code).problem == "restricted-circulation or coupon number"


def test_gtin8_in_restricted_velocity_range():
    body = "0123456"
    assert gtin_normalize(body + str(gtin_check_digit(body))).gtin is None


def test_ean13_form_for_the_shop():
    assert gtin_to_ean13("04006381333931") == "4006381333931"
    assert gtin_to_ean13("14006381333938") is None
