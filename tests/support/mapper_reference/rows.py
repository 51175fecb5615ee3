"""The canonical output of a feed read: ``MappedRow`` (usable) or ``RowRejection`` (why not).

This is the contract the ingest consumes. ``row_build`` turns the mapped values of one item into
either, applying the limits of the catalog's columns: a required field that cannot be read
rejects the row; an optional field that cannot be used is dropped (or cut) with a warning.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from catalog.gtin import gtin_normalize
from procurement.feeds.text import controls_found, controls_strip, html_to_text
from tests.support.mapper_reference.items import raw_excerpt, scalar_text
from tests.support.mapper_reference.transforms import TransformError, decimal_parse, quoted

PRICE_QUANTUM = Decimal("0.0001")
WEIGHT_QUANTUM = Decimal("0.001")
PRICE_MAX = Decimal("1000000")
STOCK_MAX = 1_000_000
WEIGHT_MAX = Decimal("100000")  # kg; beyond that the value is a unit mistake
SKU_MAX = 255
GTIN_RAW_MAX = 64
PARTNUMBER_MAX = 100
BRAND_MAX = 120
NAME_MAX = 255
DESCRIPTION_MAX = 20_000
IMAGE_URL_MAX = 1000
CATEGORY_SEGMENT_MAX = 120
META_KEY_MAX = 100
META_VALUE_MAX = 2000
META_MAX_KEYS = 100

_INTEGER = re.compile(r"^[+-]?\d+(?:\.0+)?$")
# "1,76701E+15": a long code (EAN, part number) a spreadsheet turned into a rounded float.
_SPREADSHEET_NUMBER = re.compile(r"^\d(?:[.,]\d+)?[eE]\+\d+$")


@dataclass(frozen=True, slots=True)
class MappedRow:
    line: int  # 1-based position of the item in the feed (CSV: physical line of the record start)
    sku: str  # required, stripped, <= 255 chars
    price: Decimal  # 0 or >= 0.0001, quantized to Decimal("0.0001"); > 1_000_000 rejected as absurd
    stock: int  # >= 0; > 1_000_000 rejected as absurd
    gtin: str | None  # gtin_normalize(...).gtin: 14 digits or None
    gtin_raw: str  # as received, stripped, cut to 64 chars ('' if none)
    partnumber: str  # stripped, <= 100 chars ('' if none; longer -> '' with a warning)
    brand: str  # whitespace collapsed, <= 120 chars
    name: str  # HTML tags stripped, entities decoded, whitespace collapsed, cut to 255 with a warning
    description: str  # kept as given (HTML allowed), cut to 20_000 chars with a warning
    image_url: str  # '' unless an http(s) URL <= 1000 chars (else '' + warning)
    weight: Decimal | None  # kg, >= 0, quantized to 0.001 (invalid -> None + warning)
    category: tuple[str, ...]  # path segments ("A > B" split on ">"), each cleaned, <= 120 chars
    meta: dict[str, str]  # keys <= 100 chars, values <= 2_000 chars
    warnings: tuple[str, ...]  # e.g. 'gtin "4006381333932": check digit does not match; ...'
    row_hash: str  # sha256 hex of the canonical content (all fields but line, warnings, row_hash)
    raw_digest: str = ""  # fingerprint of the source item (procurement.feeds.known), when asked for


@dataclass(frozen=True, slots=True)
class RowRejection:
    line: int
    reason: str  # operator-readable, names the field: 'price: "-3,00" is negative'
    raw: dict[str, str]  # bounded excerpt of the source item (<= 20 keys, values <= 200 chars)
    # The row's SKU when it could be read ('' otherwise): the supplier still lists that offer, so
    # the ingest keeps its last known state instead of counting it as missing.
    sku: str = ""


class _Problem(Exception):
    """A field value that cannot be used; the message does not repeat the field name."""


# A mapped field: (the value as read from the item, for messages; the value after the transforms).
Mapped = tuple[Any, Any]


def row_build(
    *,
    line: int,
    values: dict[str, Mapped],
    errors: list[str],
    meta: dict[str, str],
    warnings: list[str],
    data: dict[str, Any],
    raw_digest: str = "",
) -> MappedRow | RowRejection:
    """Validate and clean the mapped values of one item; ``errors`` holds transform failures already.

    This runs once per item of every feed, so the common cases (plain text, JSON numbers) take
    short paths and nothing is translated unless a message is needed.
    """
    _controls_remove(values, warnings)
    sku = _required("sku", values, _sku, errors)
    price = _required("price", values, _price, errors)
    stock = _required("stock", values, _stock, errors)
    # Unmapped optional fields cost a dict lookup, not a call: this runs for every item.
    partnumber = _optional("partnumber", values, _partnumber, "", warnings) if "partnumber" in values else ""
    brand = _optional("brand", values, _brand, "", warnings) if "brand" in values else ""
    gtin_input = _optional("gtin", values, _gtin_input, None, warnings) if "gtin" in values else None
    if gtin_input is None:
        gtin_raw = ""
    else:
        gtin_raw = (gtin_input if type(gtin_input) is str else scalar_text(gtin_input).strip())[:GTIN_RAW_MAX]
    check = gtin_normalize(gtin_input)
    if check.note:
        warnings.append(f"gtin {quoted(gtin_raw)}: {check.note}")
    if check.gtin is None:
        problem = f"gtin {quoted(gtin_raw)}: {check.problem}" if gtin_raw and check.problem else ""
        if brand and partnumber:
            if problem:
                warnings.append(_("%(problem)s; using brand + part number") % {"problem": problem})
        else:
            if brand:
                reason = _("no valid GTIN and no part number (brand + part number identify a product)")
            elif partnumber:
                reason = _("no valid GTIN and no brand (brand + part number identify a product)")
            else:
                reason = _("no valid GTIN and no brand + part number")
            errors.append(f"{reason} ({problem})" if problem else reason)
    if errors:
        return RowRejection(line=line, reason="; ".join(errors), raw=raw_excerpt(data), sku=sku or "")

    name = _optional("name", values, _name, "", warnings) if "name" in values else ""
    description = (
        _optional("description", values, _description, "", warnings) if "description" in values else ""
    )
    image_url = _optional("image_url", values, _image_url, "", warnings) if "image_url" in values else ""
    weight = _optional("weight", values, _weight, None, warnings) if "weight" in values else None
    category = _optional("category", values, _category, (), warnings) if "category" in values else ()
    # repr of a tuple of strings: unambiguous whatever the text contains, stable, and built in C.
    weight_text = None if weight is None else str(weight)
    content = (sku, str(price), stock, check.gtin, gtin_raw, partnumber, brand, name, description)
    content += (image_url, weight_text, category, tuple(sorted(meta.items())))
    return MappedRow(
        line=line,
        sku=sku,
        price=price,
        stock=stock,
        gtin=check.gtin,
        gtin_raw=gtin_raw,
        partnumber=partnumber,
        brand=brand,
        name=name,
        description=description,
        image_url=image_url,
        weight=weight,
        category=category,
        meta=meta,
        warnings=tuple(warnings),
        row_hash=hashlib.sha256(repr(content).encode("utf-8")).hexdigest(),
        raw_digest=raw_digest,
    )


def _controls_remove(values: dict[str, Mapped], warnings: list[str]) -> None:
    """Every mapped text loses the characters no column can store (NUL, other controls, lone
    surrogates), before any check: one such byte must cost a warning, never the feed."""
    for name, (raw, value) in values.items():
        kind = type(value)
        if kind is str:
            if not controls_found(value):
                continue
            cleaned: Any = controls_strip(value)
        elif kind is list and any(type(item) is str and controls_found(item) for item in value):
            cleaned = [controls_strip(item) if type(item) is str else item for item in value]
        else:
            continue
        values[name] = (raw, cleaned)
        warnings.append(_("%(field)s: control characters removed") % {"field": name})


def _required(name: str, values: dict[str, Mapped], convert: Any, errors: list[str]) -> Any:
    mapped = values.get(name)
    if mapped is None:  # a transform failed and said so already
        return None
    try:
        return convert(mapped[0], _single(mapped[1]))
    except _Problem as exc:
        errors.append(f"{name}: {exc}")
        return None


def _optional(name: str, values: dict[str, Mapped], convert: Any, default: Any, warnings: list[str]) -> Any:
    mapped = values.get(name)
    if mapped is None:
        return default
    value = mapped[1]
    if value is None or value == "" or value == []:
        return default
    try:
        result = convert(mapped[0], _single(value) if name != "category" else value, warnings)
    except _Problem as exc:
        warnings.append(_("%(field)s: %(problem)s; ignored") % {"field": name, "problem": exc})
        return default
    return default if result is None else result


def _single(value: Any) -> Any:
    """One value: a list of exactly one non-empty element is that element; more is a problem."""
    kind = type(value)
    if kind is str:
        return value
    if kind is list:
        present = [item for item in value if item is not None and item != ""]
        if len(present) > 1:
            raise _Problem(
                _('a list of %(count)s values; pick one ("source.0") or add a join transform')
                % {"count": len(present)}
            )
        return present[0] if present else None
    if kind is dict:
        raise _Problem(_("an object, not a value; point the source at one of its keys"))
    return value


def _text(value: Any) -> str:
    return value if type(value) is str else scalar_text(value)


def _cut(text: str, limit: int, field_name: str, warnings: list[str]) -> str:
    if len(text) > limit:
        warnings.append(
            _("%(field)s: %(count)s characters, cut to %(limit)s")
            % {"field": field_name, "count": len(text), "limit": limit}
        )
        return text[:limit]
    return text


def _sku(raw: Any, value: Any) -> str:
    text = _text(value).strip()
    if not text:
        raise _Problem(_("missing"))
    if len(text) > SKU_MAX:
        raise _Problem(
            _("%(count)s characters; the limit is %(limit)s") % {"count": len(text), "limit": SKU_MAX}
        )
    return text


def _price(raw: Any, value: Any) -> Decimal:
    if value is None or value == "":
        raise _Problem(_("missing"))
    try:
        number = decimal_parse(value)
    except TransformError:
        hint = ""
        if isinstance(value, str) and "," in value:
            hint = _(' (add a decimal transform with "decimal_separator": ",")')
        raise _Problem(
            _("%(value)s is not a number%(hint)s") % {"value": quoted(raw), "hint": hint}
        ) from None
    if number is None:
        raise _Problem(_("missing"))
    if number < 0:
        raise _Problem(_("%(value)s is negative") % {"value": quoted(raw)})
    if number > PRICE_MAX:
        raise _Problem(_("%(value)s is absurd (more than 1,000,000)") % {"value": quoted(raw)})
    price = number.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)
    if not price:
        if number:  # 0.00001: a real price lost to rounding must not become a free product
            raise _Problem(
                _("%(value)s rounds to 0 at 4 decimal places; a price is 0 (not for sale) or at least 0.0001")
                % {"value": quoted(raw)}
            )
        return price.copy_abs()  # "-0" is 0, not a negative zero in the row's fingerprint
    return price


def _stock(raw: Any, value: Any) -> int:
    try:
        number = _stock_number(raw, value)
    except ValueError:  # thousands of digits: Python refuses to read them as a number
        raise _Problem(_("%(value)s is absurd (more than 1,000,000)") % {"value": quoted(raw)}) from None
    if number < 0:
        raise _Problem(_("%(value)s is negative") % {"value": quoted(raw)})
    if number > STOCK_MAX:
        raise _Problem(_("%(value)s is absurd (more than 1,000,000)") % {"value": quoted(raw)})
    return number


def _stock_number(raw: Any, value: Any) -> int:
    kind = type(value)
    if kind is Decimal and value.is_finite() and value.adjusted() > 9:
        return -1 if value < 0 else STOCK_MAX + 1  # 1E+999999: never build that integer
    if kind is int:
        number = value
    elif kind is str and value.strip().isdigit() and value.strip().isascii():
        number = int(value)
    elif value is None or (kind is str and not value.strip()):
        raise _Problem(_("missing"))
    elif kind is Decimal and value.is_finite() and value == value.to_integral_value():
        number = int(value)
    elif kind is str and _INTEGER.match(value.strip()):
        number = int(Decimal(value.strip()))
    else:
        raise _Problem(
            _("%(value)s is not a whole number (a stock transform reads words, bounds and ranges)")
            % {"value": quoted(raw)}
        )
    return number


def _gtin_input(raw: Any, value: Any, warnings: list[str]) -> Any:
    """What to hand to ``gtin_normalize``: JSON numbers as their digits, text stripped."""
    if type(value) is str:
        return value.strip() or None
    if isinstance(value, Decimal):
        text = str(value)
        if "E" not in text.upper() and value == value.to_integral_value():
            return str(int(value))  # 5600000010280.0 from a float export
        return text  # "5.6E+12": gtin_normalize explains the lost digits
    return value


def _partnumber(raw: Any, value: Any, warnings: list[str]) -> str:
    text = _text(value).strip()
    if len(text) > PARTNUMBER_MAX:
        raise _Problem(
            _("%(count)s characters; the limit is %(limit)s") % {"count": len(text), "limit": PARTNUMBER_MAX}
        )
    return text


def _brand(raw: Any, value: Any, warnings: list[str]) -> str:
    return _cut(" ".join(_text(value).split()), BRAND_MAX, "brand", warnings)


def _name(raw: Any, value: Any, warnings: list[str]) -> str:
    return _cut(html_to_text(_text(value)), NAME_MAX, "name", warnings)


def _description(raw: Any, value: Any, warnings: list[str]) -> str:
    return _cut(_text(value).strip(), DESCRIPTION_MAX, "description", warnings)


def _image_url(raw: Any, value: Any, warnings: list[str]) -> str:
    text = _text(value).strip()
    if not text:
        return ""
    if len(text) > IMAGE_URL_MAX:
        raise _Problem(_("longer than %(limit)s characters") % {"limit": IMAGE_URL_MAX})
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        raise _Problem(_("%(value)s is not an http(s) URL") % {"value": quoted(text)})
    return text


def _weight(raw: Any, value: Any, warnings: list[str]) -> Decimal | None:
    try:
        number = decimal_parse(value)
    except TransformError:
        raise _Problem(_("%(value)s is not a number of kilograms") % {"value": quoted(raw)}) from None
    if number is None:
        return None
    if number < 0 or number > WEIGHT_MAX:
        raise _Problem(_("%(value)s is not a plausible weight in kilograms") % {"value": quoted(raw)})
    return number.quantize(WEIGHT_QUANTUM, rounding=ROUND_HALF_UP)


def _category(raw: Any, value: Any, warnings: list[str]) -> tuple[str, ...]:
    parts = value if isinstance(value, list) else [value]
    segments: list[str] = []
    for part in parts:
        if isinstance(part, dict | list):
            raise _Problem(_("an object or list inside the category path"))
        for segment in scalar_text(part).split(">"):
            cleaned = html_to_text(segment)
            if cleaned:
                segments.append(_cut(cleaned, CATEGORY_SEGMENT_MAX, "category", warnings))
    return tuple(segments)


def meta_clean(pairs: list[tuple[str, Any]], warnings: list[str]) -> dict[str, str]:
    """Meta attributes within the catalog's limits; what does not fit is reported, not silently lost."""
    meta: dict[str, str] = {}
    for key, value in pairs:
        if value is None or value == "" or (type(value) is str and not value.strip()):
            continue
        if controls_found(key):
            warnings.append(_("meta key %(key)s: control characters removed") % {"key": quoted(key)})
            key = controls_strip(key)
            if not key.strip():
                continue
        if len(key) > META_KEY_MAX:
            message = _("meta key %(key)s is longer than %(limit)s characters; ignored")
            warnings.append(message % {"key": quoted(key), "limit": META_KEY_MAX})
            continue
        if len(meta) >= META_MAX_KEYS:
            warnings.append(
                _("more than %(limit)s meta attributes; the rest are ignored") % {"limit": META_MAX_KEYS}
            )
            break
        text = scalar_text(value).strip()
        if controls_found(text):
            warnings.append(_("meta %(key)s: control characters removed") % {"key": quoted(key)})
            text = controls_strip(text).strip()
            if not text:
                continue
        if type(value) is str and _SPREADSHEET_NUMBER.match(text):
            message = _(
                "meta %(key)s: %(value)s looks like a number a spreadsheet shortened to scientific "
                "notation; its digits are lost (export the column as text)"
            )
            warnings.append(message % {"key": quoted(key), "value": quoted(text)})
        if len(text) > META_VALUE_MAX:
            message = _("meta %(key)s: %(count)s characters, cut to %(limit)s")
            warnings.append(message % {"key": quoted(key), "count": len(text), "limit": META_VALUE_MAX})
            text = text[:META_VALUE_MAX]
        meta[key] = text
    return meta
