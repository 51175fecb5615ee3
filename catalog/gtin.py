"""GTIN rules (GS1 General Specifications), pure functions.

Every GTIN is stored as 14 digits, left-padded with zeros: padding does not change the GS1 mod-10
check digit, so UPC-A ``820650851230``, EAN-13 ``0820650851230`` and GTIN-14 ``00820650851230`` are
one product. Numbers in restricted-circulation ranges (in-store, variable weight, company-internal)
and coupon ranges are valid barcodes but not globally unique, so they never match products across
suppliers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s\-.]+")
_SCIENTIFIC = re.compile(r"^\d+(?:[.,]\d+)?[eE]\+?\d+$")
_FLOAT_TEXT = re.compile(r"^(\d+)[.,]0+$")  # 5600000010280.0: a float written out as text
VALID_LENGTHS = (8, 12, 13, 14)


@dataclass(frozen=True, slots=True)
class GtinCheck:
    """Outcome of checking a raw GTIN: ``gtin`` is set only when it can identify a product."""

    gtin: str | None
    problem: str | None = None  # why the raw value was not usable (None when fine or empty)
    note: str | None = None  # usable, but worth a look (leading zeros restored)


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits preceding it."""
    # From the right, weights 3, 1, 3, 1...; slicing keeps it in C (this runs for every feed row).
    total = 3 * sum(map(int, body[::-1][0::2])) + sum(map(int, body[::-1][1::2]))
    return (10 - total % 10) % 10


def gtin_is_valid(digits: str) -> bool:
    return (
        digits.isascii()
        and digits.isdigit()
        and len(digits) in VALID_LENGTHS
        and gtin_check_digit(digits[:-1]) == int(digits[-1])
    )


def gtin_is_restricted(gtin14: str) -> bool:
    """Restricted-circulation (02, 04, 20-29) and coupon (05, 99, 981-984) numbers.

    The first digit of a GTIN-14 is the packaging indicator and not part of the GS1 prefix.
    GTIN-8 numbers starting with 0 or 2 are restricted too (GS1 "velocity codes" and RCN-8).
    """
    if gtin14.startswith("000000"):  # a GTIN-8 padded to 14 digits
        return gtin14[6] in "02"
    prefix = gtin14[1:]  # the 13-digit body that carries the GS1 prefix
    return (
        prefix[:2] in {"02", "04", "05", "99"}
        or prefix[0] == "2"
        or prefix[:3] in {"981", "982", "983", "984"}
    )


def _gtin_text(raw: object) -> str | GtinCheck:
    """The raw value as text (JSON numbers included), or why it cannot be a GTIN."""
    if raw is None:
        return GtinCheck(None)
    if isinstance(raw, bool):
        return GtinCheck(None, "not a number")
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else GtinCheck(None, "not a whole number")
    return str(raw).strip()


def _gtin_digits(raw: object) -> str | GtinCheck:
    """The digits of a raw value, separators and float text (".0") removed, or why there are none."""
    text = _gtin_text(raw)
    if isinstance(text, GtinCheck):
        return text
    if not text:
        return GtinCheck(None)
    if text.isascii() and text.isdigit():
        return text  # the common case: plain digits
    if _SCIENTIFIC.match(text):
        return GtinCheck(None, "scientific notation lost digits (spreadsheet export)")
    floated = _FLOAT_TEXT.match(text)
    digits = floated.group(1) if floated else _SEPARATORS.sub("", text)
    if not digits.isascii() or not digits.isdigit():
        return GtinCheck(None, "contains characters other than digits")
    return digits


def gtin_normalize(raw: object) -> GtinCheck:
    """Turn a raw feed value into a 14-digit GTIN, or say why it cannot identify a product.

    Accepts spaces, dashes and dots between digits, integers and floats from JSON, float text
    ("5600000010280.0"), and refuses spreadsheet scientific notation ("4,00638E+12"), which
    has lost digits. 9-11 digits are zero-padded with a ``note``: leading zeros were dropped.
    """
    digits = _gtin_digits(raw)
    if isinstance(digits, GtinCheck):
        return digits
    if set(digits) == {"0"}:
        return GtinCheck(None, "all zeros")
    if len(digits) < 8:
        return GtinCheck(None, f"{len(digits)} digits; a GTIN has 8, 12, 13 or 14")
    if len(digits) > 14:
        return GtinCheck(None, f"{len(digits)} digits; a GTIN has at most 14")
    # 9-11 digits: a UPC/EAN whose leading zeros a spreadsheet dropped. Zero-padding keeps the
    # check digit, so the 14-digit form is checked directly.
    gtin14 = digits.zfill(14)
    if not gtin_is_valid(gtin14):
        return GtinCheck(None, "check digit does not match")
    if gtin_is_restricted(gtin14):
        return GtinCheck(None, "restricted-circulation or coupon number")
    if len(digits) in (9, 10, 11):
        return GtinCheck(
            gtin14,
            note=f"{len(digits)} digits, read as {gtin14} (leading zeros lost, e.g. by a spreadsheet?)",
        )
    return GtinCheck(gtin14)


def gtin_to_ean13(gtin14: str) -> str | None:
    """The 13-digit form PrestaShop's ``ean13`` field accepts, or None for a real GTIN-14."""
    return gtin14[1:] if gtin14.startswith("0") else None
