"""PrestaShop's field rules as pure functions, shared by both backends and the fake shop.

The rules come from PrestaShop's ``Validate`` class and ``Product::$definition`` (see
``/work/shared/notes/prestashop-webservice.md`` §3): a value the shop would reject is refused or
cleaned here, before it costs a request.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from catalog.gtin import gtin_to_ean13
from prestashop.errors import ShopValidationError
from prestashop.types import ProductDraft, ShopLanguage

REFERENCE_MAX_LENGTH = 64
NAME_MAX_LENGTH = 128
LINK_REWRITE_MAX_LENGTH = 128
SIX_PLACES = Decimal("0.000001")

# XML 1.0 forbids these code points; PrestaShop answers 500/127 when it meets one.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_REFERENCE_FORBIDDEN = re.compile(r"[<>;={}]")
_NAME_FORBIDDEN = re.compile(r"[<>=#{}]")
PRICE_PATTERN = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,9})?$")
EAN13_PATTERN = re.compile(r"^[0-9]{0,13}$")
LINK_REWRITE_PATTERN = re.compile(r"^[_a-zA-Z0-9-]+$")
# Inside filter[...]=[value] PrestaShop reads "|" as OR, "a,b" between numbers as a range and
# "%" as LIKE (SQLUtils::getSQLRetrieveFilter), so such values cannot be looked up exactly.
_FILTER_UNSAFE = re.compile(r"[|\[\]%]")
_FILTER_RANGE = re.compile(r"^[\d.:\-\s]+,[\d.:\-\s]+$")
_FOLD_EXTRA = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "đ": "d", "ł": "l"}
)


def clean_text(value: str) -> str:
    """Drop control characters and other code points XML cannot carry."""
    return _XML_INVALID.sub("", value)


def validate_reference(reference: str) -> str:
    """The reference as the shop will store it, or ShopValidationError (it is an identifier, so it
    is refused rather than silently changed)."""
    value = clean_text(reference).strip()
    if not value:
        raise ShopValidationError("reference is empty")
    if len(value) > REFERENCE_MAX_LENGTH:
        raise ShopValidationError(
            f"reference {value[:20]!r}… is longer than {REFERENCE_MAX_LENGTH} characters"
        )
    if _REFERENCE_FORBIDDEN.search(value):
        raise ShopValidationError(
            f"reference {value!r} contains one of < > ; = {{ }}, which PrestaShop refuses"
        )
    return value


def filter_value_is_exact(value: str) -> bool:
    """Whether ``filter[field]=[value]`` matches exactly this value in the Webservice."""
    return not _FILTER_UNSAFE.search(value) and not _FILTER_RANGE.match(value)


def catalog_name(name: str) -> str:
    """A product name PrestaShop accepts (``isCatalogName``, 128 characters): supplier names
    often carry ``;`` or ``<``, which are replaced rather than failing the import."""
    value = clean_text(name).replace(";", ",")
    value = _NAME_FORBIDDEN.sub(" ", value)
    value = " ".join(value.split())
    if len(value) > NAME_MAX_LENGTH:
        value = value[:NAME_MAX_LENGTH].rstrip()
    return value


def link_rewrite(text: str) -> str:
    """URL slug matching ``^[_a-zA-Z0-9-]+$`` (accents folded), at most 128 characters."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", ascii_text).strip("-").lower()
    slug = slug[:LINK_REWRITE_MAX_LENGTH].rstrip("-")
    return slug or "product"


def format_decimal(value: Decimal, *, field_name: str) -> str:
    """Dot decimal with 6 places, as PrestaShop stores prices; refuses what ``isPrice`` refuses."""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ShopValidationError(f"{field_name} is not a number") from None
    if not number.is_finite() or number < 0:
        raise ShopValidationError(f"{field_name} must be a non-negative number, got {number}")
    text = f"{number.quantize(SIX_PLACES, rounding=ROUND_HALF_UP):f}"
    if not PRICE_PATTERN.match(text):
        raise ShopValidationError(f"{field_name} {text} is out of the shop's range")
    return text


def ean13_for_shop(gtin: str | None) -> str | None:
    """The ``ean13`` value for a catalog GTIN, or None when there is none or it is a GTIN-14."""
    if gtin is None or not gtin.strip():
        return None
    digits = gtin.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > 14:
        raise ShopValidationError(f"GTIN {digits!r} is not 8 to 14 digits")
    return gtin_to_ean13(digits.zfill(14))


def _iso_base(code: str) -> str:
    return code.lower().split("-")[0]


def localized(texts: Mapping[str, str], languages: Sequence[ShopLanguage]) -> dict[int, str]:
    """Texts by ISO code -> texts by shop language id, for every language of the shop.

    An exact ISO match wins, then the same base language (``pt-pt`` for ``pt``), then the first
    text given, so the shop never shows an empty name in a language Genesys does not translate.
    """
    if not texts:
        return {language.id: "" for language in languages}
    by_code = {code.lower(): text for code, text in texts.items()}
    by_base: dict[str, str] = {}
    for code, text in texts.items():
        by_base.setdefault(_iso_base(code), text)
    fallback = next(iter(texts.values()))
    result = {}
    for language in languages:
        code = language.iso_code.lower()
        result[language.id] = by_code.get(code, by_base.get(_iso_base(code), fallback))
    return result


@dataclass(frozen=True, slots=True)
class PreparedProduct:
    """A ``ProductDraft`` checked and shaped for the shop: texts by language id, numbers as text."""

    reference: str
    ean13: str | None
    price: str
    weight: str | None
    id_category_default: int
    category_ids: tuple[int, ...]
    id_manufacturer: int | None
    names: dict[int, str]
    link_rewrites: dict[int, str]
    descriptions: dict[int, str]
    short_descriptions: dict[int, str]
    idempotency_key: str


def prepare_product(draft: ProductDraft, *, languages: Sequence[ShopLanguage]) -> PreparedProduct:
    """Validate and normalise a draft for the given shop languages (pure; both backends use it)."""
    if not languages:
        raise ShopValidationError("the shop reports no languages")
    reference = validate_reference(draft.reference)
    names = {lang_id: catalog_name(text) for lang_id, text in localized(draft.names, languages).items()}
    if not any(names.values()):
        raise ShopValidationError(f"product {reference!r} has no name")
    fallback_name = next(name for name in names.values() if name)
    names = {lang_id: name or fallback_name for lang_id, name in names.items()}
    if draft.id_category_default <= 0:
        raise ShopValidationError(f"product {reference!r} has no default category")
    category_ids = tuple(dict.fromkeys([draft.id_category_default, *draft.category_ids]))
    if any(category_id <= 0 for category_id in category_ids):
        raise ShopValidationError(f"product {reference!r} has an invalid category id")
    if draft.id_manufacturer is not None and draft.id_manufacturer <= 0:
        raise ShopValidationError(f"product {reference!r} has an invalid manufacturer id")
    return PreparedProduct(
        reference=reference,
        ean13=ean13_for_shop(draft.gtin),
        price=format_decimal(draft.price, field_name="price"),
        weight=None if draft.weight is None else format_decimal(draft.weight, field_name="weight"),
        id_category_default=draft.id_category_default,
        category_ids=category_ids,
        id_manufacturer=draft.id_manufacturer,
        names=names,
        link_rewrites={lang_id: link_rewrite(name) for lang_id, name in names.items()},
        descriptions={k: clean_text(v) for k, v in localized(draft.descriptions, languages).items()},
        short_descriptions={
            k: clean_text(v) for k, v in localized(draft.short_descriptions, languages).items()
        },
        idempotency_key=(draft.idempotency_key or f"reference:{reference}")[:128],
    )
