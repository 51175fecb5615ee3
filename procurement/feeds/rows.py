"""The canonical output of a feed read: ``MappedRow`` (usable) or ``RowRejection`` (why not).

This is the contract the ingest consumes. ``row_build`` turns the mapped values of one item into
either, applying the limits of the catalog's columns: a required field that cannot be read
rejects the row; an optional field that cannot be used is dropped (or cut) with a warning.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from catalog.gtin import gtin_normalize
from procurement.feeds.items import raw_excerpt, scalar_text
from procurement.feeds.text import html_to_text, spaces_collapse
from procurement.feeds.transforms import TransformError, decimal_parse, quoted

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


@dataclass(frozen=True, slots=True)
class MappedRow:
    line: int  # 1-based position of the item in the feed (CSV: physical line of the record start)
    sku: str  # required, stripped, <= 255 chars
    price: Decimal  # >= 0, quantized to Decimal("0.0001"); > 1_000_000 rejected as absurd
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


@dataclass(frozen=True, slots=True)
class RowRejection:
    line: int
    reason: str  # operator-readable, names the field: 'price: "-3,00" is negative'
    raw: dict[str, str]  # bounded excerpt of the source item (<= 20 keys, values <= 200 chars)


class _Problem(Exception):
    """A field value that cannot be used; the message does not repeat the field name."""


@dataclass(slots=True)
class MappedValue:
    """A field after the profile: ``raw`` as read from the item (for messages), ``value`` transformed."""

    raw: Any
    value: Any


def row_build(
    *,
    line: int,
    values: dict[str, MappedValue],
    errors: list[str],
    meta: dict[str, str],
    warnings: list[str],
    data: dict[str, Any],
) -> MappedRow | RowRejection:
    """Validate and clean the mapped values of one item; ``errors`` holds transform failures already."""
    errors = list(errors)
    warnings = list(warnings)

    def required(name: str, convert: Any) -> Any:
        mapped = values.get(name)
        if mapped is None:  # a transform already failed and reported it
            return None
        try:
            return convert(mapped)
        except _Problem as exc:
            errors.append(f"{name}: {exc}")
            return None

    def optional(name: str, convert: Any, default: Any) -> Any:
        mapped = values.get(name)
        if mapped is None or _empty(mapped.value):
            return default
        try:
            return convert(mapped)
        except _Problem as exc:
            warnings.append(_("%(field)s: %(problem)s; ignored") % {"field": name, "problem": exc})
            return default

    sku = required("sku", _sku)
    price = required("price", _price)
    stock = required("stock", _stock)
    gtin_input = optional("gtin", lambda m: _gtin_input(_single(m.value)), None)
    partnumber = optional("partnumber", lambda m: _limited_text(m, PARTNUMBER_MAX), "")
    brand = optional("brand", lambda m: _cut(spaces_collapse(_text(m)), BRAND_MAX, "brand", warnings), "")
    name = optional("name", lambda m: _cut(html_to_text(_text(m)), NAME_MAX, "name", warnings), "")
    description = optional(
        "description", lambda m: _cut(_text(m).strip(), DESCRIPTION_MAX, "description", warnings), ""
    )
    image_url = optional("image_url", _image_url, "")
    weight = optional("weight", _weight, None)
    category = optional("category", lambda m: _category(m.value, warnings), ())

    gtin_raw = "" if gtin_input is None else scalar_text(gtin_input).strip()[:GTIN_RAW_MAX]
    check = gtin_normalize(gtin_input)
    if check.gtin is None:
        problem = f"gtin {quoted(gtin_raw)}: {check.problem}" if gtin_raw and check.problem else ""
        if brand and partnumber:
            if problem:
                warnings.append(_("%(problem)s; using brand + part number") % {"problem": problem})
        else:
            reason = _("no valid GTIN and no brand + part number")
            errors.append(f"{reason} ({problem})" if problem else reason)

    if errors:
        return RowRejection(line=line, reason="; ".join(errors), raw=raw_excerpt(data))
    content = [
        sku, str(price), stock, check.gtin, gtin_raw, partnumber, brand, name, description, image_url,
        None if weight is None else str(weight), list(category), sorted(meta.items()),
    ]  # fmt: skip
    row_hash = hashlib.sha256(
        json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ).hexdigest()
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
        row_hash=row_hash,
    )


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _single(value: Any) -> Any:
    """One value: a list of exactly one non-empty element is that element; more is a problem."""
    if isinstance(value, list):
        present = [item for item in value if not _empty(item)]
        if len(present) > 1:
            raise _Problem(
                _('a list of %(count)s values; pick one ("source.0") or add a join transform')
                % {"count": len(present)}
            )
        value = present[0] if present else None
    if isinstance(value, dict):
        raise _Problem(_("an object, not a value; point the source at one of its keys"))
    return value


def _text(mapped: MappedValue) -> str:
    return scalar_text(_single(mapped.value))


def _cut(text: str, limit: int, field_name: str, warnings: list[str]) -> str:
    if len(text) > limit:
        warnings.append(
            _("%(field)s: %(count)s characters, cut to %(limit)s")
            % {"field": field_name, "count": len(text), "limit": limit}
        )
        return text[:limit]
    return text


def _limited_text(mapped: MappedValue, limit: int) -> str:
    text = _text(mapped).strip()
    if len(text) > limit:
        raise _Problem(
            _("%(count)s characters; the limit is %(limit)s") % {"count": len(text), "limit": limit}
        )
    return text


def _sku(mapped: MappedValue) -> str:
    value = _single(mapped.value)
    text = scalar_text(value).strip()
    if not text:
        raise _Problem(_("missing"))
    if len(text) > SKU_MAX:
        raise _Problem(
            _("%(count)s characters; the limit is %(limit)s") % {"count": len(text), "limit": SKU_MAX}
        )
    return text


def _number(mapped: MappedValue) -> Decimal:
    value = _single(mapped.value)
    if _empty(value):
        raise _Problem(_("missing"))
    try:
        number = decimal_parse(value)
    except TransformError:
        hint = ""
        if isinstance(value, str) and "," in value:
            hint = _(' (add a decimal transform with "decimal_separator": ",")')
        raise _Problem(
            _("%(value)s is not a number%(hint)s") % {"value": quoted(mapped.raw), "hint": hint}
        ) from None
    assert number is not None
    return number


def _price(mapped: MappedValue) -> Decimal:
    number = _number(mapped)
    if number < 0:
        raise _Problem(_("%(value)s is negative") % {"value": quoted(mapped.raw)})
    if number > PRICE_MAX:
        raise _Problem(_("%(value)s is absurd (more than 1,000,000)") % {"value": quoted(mapped.raw)})
    return number.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


def _stock(mapped: MappedValue) -> int:
    value = _single(mapped.value)
    if _empty(value):
        raise _Problem(_("missing"))
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = int(Decimal(value.strip()))
    else:
        raise _Problem(
            _("%(value)s is not a whole number (a stock transform reads words, bounds and ranges)")
            % {"value": quoted(mapped.raw)}
        )
    if number < 0:
        raise _Problem(_("%(value)s is negative") % {"value": quoted(mapped.raw)})
    if number > STOCK_MAX:
        raise _Problem(_("%(value)s is absurd (more than 1,000,000)") % {"value": quoted(mapped.raw)})
    return number


def _gtin_input(value: Any) -> Any:
    """What to hand to ``gtin_normalize``: JSON numbers as their digits, text stripped."""
    if isinstance(value, Decimal):
        text = str(value)
        if "E" not in text.upper() and value == value.to_integral_value():
            return str(int(value))  # 5600000010280.0 from a float export
        return text  # "5.6E+12": gtin_normalize explains the lost digits
    if isinstance(value, str):
        return value.strip()
    return value


def _image_url(mapped: MappedValue) -> str:
    text = _text(mapped).strip()
    parts = urlsplit(text) if len(text) <= IMAGE_URL_MAX else None
    if parts is None:
        raise _Problem(_("longer than %(limit)s characters") % {"limit": IMAGE_URL_MAX})
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        raise _Problem(_("%(value)s is not an http(s) URL") % {"value": quoted(text)})
    return text


def _weight(mapped: MappedValue) -> Decimal:
    try:
        number = decimal_parse(_single(mapped.value))
    except TransformError:
        raise _Problem(_("%(value)s is not a number of kilograms") % {"value": quoted(mapped.raw)}) from None
    if number is None or number < 0 or number > WEIGHT_MAX:
        raise _Problem(_("%(value)s is not a plausible weight in kilograms") % {"value": quoted(mapped.raw)})
    return number.quantize(WEIGHT_QUANTUM, rounding=ROUND_HALF_UP)


def _category(value: Any, warnings: list[str]) -> tuple[str, ...]:
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
        if _empty(value):
            continue
        if len(key) > META_KEY_MAX:
            warnings.append(_("meta key %(key)s is longer than %(limit)s characters; ignored") % {
                "key": quoted(key), "limit": META_KEY_MAX
            })  # fmt: skip
            continue
        if len(meta) >= META_MAX_KEYS:
            warnings.append(
                _("more than %(limit)s meta attributes; the rest are ignored") % {"limit": META_MAX_KEYS}
            )
            break
        text = scalar_text(value).strip()
        if len(text) > META_VALUE_MAX:
            warnings.append(_("meta %(key)s: %(count)s characters, cut to %(limit)s") % {
                "key": quoted(key), "count": len(text), "limit": META_VALUE_MAX
            })  # fmt: skip
            text = text[:META_VALUE_MAX]
        meta[key] = text
    return meta
