"""From a raw feed item to a canonical row: the whole mapping, in one module (docs/mappers.md).

Three parts, in the order an item meets them:

* **Raw items** (``RawItem``, ``ItemError``, ``value_get``): what the parsers yield. An item is a
  dict: CSV columns by header; JSON objects as parsed (numbers as ``int`` or ``Decimal``, never
  ``float``); XML elements as nested dicts (see ``parse_xml``).
* **The compiled mapper** (``profile_compile`` → ``CompiledProfile.item_map``): a valid profile
  is turned once into one straight-line Python function, with every source key, transform and
  converter bound as a constant, so an item costs a few dict lookups and the conversions it
  needs, never a walk over the profile. ``bench/mapper.py`` measures it.
* **Canonical rows** (``MappedRow`` / ``RowRejection``): the contract the ingest consumes, with
  the limits of the catalog's columns. A required field that cannot be read rejects the row; an
  optional field that cannot be used is dropped (or cut) with a warning.

The rules are those of the interpreting mapper this replaced, kept verbatim in
``tests/support/mapper_reference`` as the tests' oracle: the compiled function must give exactly
the same rows (values, warnings and their order, rejection reasons, ``row_hash``).
"""

from __future__ import annotations

import difflib
import hashlib
import linecache
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from catalog.gtin import GtinCheck, gtin_normalize
from genesys.outbound import text_excerpt
from procurement.feeds.profile import REQUIRED_FIELDS, profile_validate
from procurement.feeds.text import (
    controls_escape,
    controls_found,
    controls_strip,
    html_to_text,
    scalar_text,
    spaces_collapse,
)
from procurement.feeds.transforms import Transform, TransformError, decimal_parse, quoted, transform_build

# --- raw items -------------------------------------------------------------------------------

RAW_MAX_KEYS = 20
RAW_MAX_CHARS = 200
TEXT_KEY = "#text"  # the text of an XML element that also has attributes or children


class RawItem:
    """One item of the feed; ``line`` is its 1-based position (CSV: physical line of the record).

    A CSV record may come as its header and fields instead: ``data`` is then built when first
    read, and an item recognised as unchanged (``procurement.feeds.known``, from the fields)
    never builds it.
    """

    __slots__ = ("_data", "fields", "header", "line")

    def __init__(
        self,
        line: int,
        data: dict[str, Any] | None = None,
        *,
        header: tuple[str, ...] | None = None,
        fields: list[str] | None = None,
    ) -> None:
        if (data is None) is (fields is None) or (fields is not None and header is None):
            raise TypeError("a RawItem takes its data, or a header and fields")
        self.line = line
        self._data = data
        self.header = header
        self.fields = fields

    @property
    def data(self) -> dict[str, Any]:
        data = self._data
        if data is None:
            data = self._data = dict(zip(self.header, self.fields, strict=False))  # type: ignore[arg-type]
        return data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawItem):
            return NotImplemented
        return (self.line, self.data) == (other.line, other.data)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaced

    def __repr__(self) -> str:
        return f"RawItem(line={self.line!r}, data={self.data!r})"


@dataclass(slots=True)
class ItemError:
    """An item the parser could not turn into a dict (ragged CSV line, bad JSON line...)."""

    line: int
    reason: str
    raw: dict[str, str]


def value_get(data: dict[str, Any], source: str) -> Any:
    """The value at ``source``: a key of ``data``, else a dotted path (``pricing.net``, ``images.0``).

    Returns None when the path does not exist. An XML element with attributes gives its text.
    """
    if source in data:
        value = data[source]
    else:
        value = data
        for part in source.split("."):
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
            if value is None:
                return None
    if isinstance(value, dict) and TEXT_KEY in value:
        return value[TEXT_KEY]
    return value


def item_flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, leaf) pairs: nested objects flattened with dots, lists kept whole as leaves."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key == TEXT_KEY and prefix:
                yield prefix, child
                continue
            yield from item_flatten(child, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def raw_excerpt(data: dict[str, Any]) -> dict[str, str]:
    """A bounded copy of an item for the rejected-rows report: 20 keys, values cut to 200 chars,
    control characters shown as escapes (the report is stored: it cannot hold a NUL)."""
    excerpt: dict[str, str] = {}
    for key, value in item_flatten(data):
        if len(excerpt) >= RAW_MAX_KEYS:
            break
        excerpt[controls_escape(key[:RAW_MAX_CHARS])] = controls_escape(scalar_text(value)[:RAW_MAX_CHARS])
    return excerpt


# --- canonical rows --------------------------------------------------------------------------

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
# The compiled mapper remembers results that repeat (a stock word, a category path, a meta value)
# in caches of at most this many entries each; past that, new values are computed, not kept.
CACHE_ENTRIES = 4096

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
    # The text is stripped: it holds whitespace exactly when splitting on whitespace cuts it.
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(text.split()) > 1:
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


def meta_clean(
    pairs: list[tuple[str, Any]], warnings: list[str], cache: dict[tuple[str, str], str] | None = None
) -> dict[str, str]:
    """Meta attributes within the catalog's limits; what does not fit is reported, not silently lost.

    ``cache`` (the compiled mapper's) remembers the text of a (key, value) pair that needed no
    warning: meta values repeat from row to row ("2 anos", "A"), their cleaning need not.
    """
    meta: dict[str, str] = {}
    for key, value in pairs:
        if cache is not None and type(value) is str:
            text = cache.get((key, value))
            if text is not None:
                if len(meta) >= META_MAX_KEYS:
                    warnings.append(_too_many_meta())
                    break
                meta[key] = text
                continue
        if value is None or value == "" or (type(value) is str and not value.strip()):
            continue
        before = len(warnings)
        given = key
        if not key.isprintable() and controls_found(key):
            warnings.append(_("meta key %(key)s: control characters removed") % {"key": quoted(key)})
            key = controls_strip(key)
            if not key.strip():
                continue
        if len(key) > META_KEY_MAX:
            message = _("meta key %(key)s is longer than %(limit)s characters; ignored")
            warnings.append(message % {"key": quoted(key), "limit": META_KEY_MAX})
            continue
        if len(meta) >= META_MAX_KEYS:
            warnings.append(_too_many_meta())
            break
        text = _meta_text(key, value, warnings)
        if text is None:
            continue
        meta[key] = text
        if (
            cache is not None
            and type(value) is str
            and len(warnings) == before
            and len(cache) < CACHE_ENTRIES
        ):
            cache[(given, value)] = text
    return meta


def _too_many_meta() -> str:
    return _("more than %(limit)s meta attributes; the rest are ignored") % {"limit": META_MAX_KEYS}


def _meta_text(key: str, value: Any, warnings: list[str]) -> str | None:
    """A meta value as stored text, or None when nothing is left of it."""
    text = scalar_text(value).strip()
    if not text.isprintable() and controls_found(text):
        warnings.append(_("meta %(key)s: control characters removed") % {"key": quoted(key)})
        text = controls_strip(text).strip()
        if not text:
            return None
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
    return text


def _list_controls(value: list[Any], name: str, warnings: list[str]) -> list[Any]:
    """A list value without control characters in its texts (a warning when any were removed)."""
    if not any(type(item) is str and controls_found(item) for item in value):
        return value
    warnings.append(_("%(field)s: control characters removed") % {"field": name})
    return [controls_strip(item) if type(item) is str else item for item in value]


def _required(name: str, raw: Any, value: Any, convert: Any, errors: list[str]) -> Any:
    """A required field off the fast path: converted, or None with the problem in ``errors``."""
    try:
        return convert(raw, _single(value))
    except _Problem as exc:
        errors.append(f"{name}: {exc}")
        return None


def _optional(name: str, raw: Any, value: Any, convert: Any, default: Any, warnings: list[str]) -> Any:
    """An optional field off the fast path: converted, or ``default`` (with a warning if unusable)."""
    if value is None or value == "" or value == []:
        return default
    try:
        result = convert(raw, _single(value) if name != "category" else value, warnings)
    except _Problem as exc:
        warnings.append(_("%(field)s: %(problem)s; ignored") % {"field": name, "problem": exc})
        return default
    return default if result is None else result


_NO_GTIN = GtinCheck(None)


def _identity(
    gtin_input: Any, brand: str, partnumber: str, warnings: list[str], errors: list[str]
) -> tuple[str | None, str]:
    """(gtin, gtin_raw): the GTIN checked; without one, brand + part number must identify the row."""
    if gtin_input is None:
        gtin_raw = ""
        check = _NO_GTIN
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
    return check.gtin, gtin_raw


# --- the compiled mapper ---------------------------------------------------------------------

SOURCE_PROBE_ITEMS = 100  # JSON/XML: a source absent from this many first items is a feed warning
_ABSENT = object()
_FAILED = object()  # a field whose transform failed: its error is recorded, the row is rejected
_REST_KEYS_CACHED = 10_000  # "meta": "rest" remembers this many keys' verdicts (keys repeat)


class ProfileBindError(Exception):
    """The profile does not fit the feed (a required CSV column is missing)."""


@dataclass(frozen=True, slots=True)
class FieldPlan:
    name: str
    sources: tuple[str, ...]  # empty for a constant
    as_list: bool  # the source was a list: the value is a list
    constant: Any
    transforms: tuple[Transform, ...]
    inherit: str = ""  # grouping source: a blank value takes the previous row's of the same group


def profile_compile(*, profile: dict[str, Any]) -> CompiledProfile:
    """Validate and compile ``profile``; raises ``ValidationError`` when it is invalid."""
    profile_validate(profile)
    plans = []
    for name, spec in profile["fields"].items():
        if isinstance(spec, str):
            spec = {"source": spec}
        source = spec.get("source")
        sources = tuple(s.strip() for s in ([source] if isinstance(source, str) else source or []))
        plans.append(
            FieldPlan(
                name=name,
                sources=sources,
                as_list=isinstance(source, list),
                constant=spec.get("constant"),
                transforms=tuple(transform_build(t) for t in spec.get("transforms", [])),
                inherit=spec.get("inherit", "").strip(),
            )
        )
    meta = profile.get("meta", "rest")
    return CompiledProfile(plans=tuple(plans), meta=meta if isinstance(meta, str) else tuple(meta))


ItemMap = Callable[..., "MappedRow | RowRejection"]


class CompiledProfile:
    """A profile ready to map items: ``item_map(item, raw_digest="")`` is called once per item.

    ``item_map`` is generated code (``item_map_source`` shows it), rebuilt when a CSV header
    binds the sources to its columns.
    """

    item_map: ItemMap
    item_map_source: str

    def __init__(self, *, plans: tuple[FieldPlan, ...], meta: str | tuple[str, ...]) -> None:
        self.plans = plans
        self.meta = meta
        self.inherits = any(p.inherit for p in plans)
        self._inherited: dict[str, tuple[Any, Any]] = {}  # field -> (group, raw value) of the last row
        self.aliases: dict[str, str] = {}  # CSV: a source as written -> the header's column name
        self._used: frozenset[str] = frozenset()
        self._used_ancestors: frozenset[str] = frozenset()
        self._rest_verdicts: dict[str, bool] = {}
        self._rebuild()

    @property
    def sources(self) -> list[tuple[str, str]]:
        """(source, path in the profile) for every source the profile reads."""
        found = [(s, f"fields.{plan.name}") for plan in self.plans for s in plan.sources]
        found.extend((p.inherit, f"fields.{p.name}.inherit") for p in self.plans if p.inherit)
        if isinstance(self.meta, tuple):
            found.extend((s, "meta") for s in self.meta)
        return found

    def header_bind(self, header: Sequence[str]) -> list[str]:
        """Match the profile's CSV sources to a header; returns warnings, raises for missing required columns.

        A source matches its column exactly, else ignoring case and surrounding or repeated spaces.
        """
        columns = set(header)
        folded = {spaces_collapse(name).casefold(): name for name in reversed(header)}
        self.aliases = {}
        missing: list[tuple[str, str]] = []
        for source, path in self.sources:
            if source in columns:
                continue
            match = folded.get(spaces_collapse(source).casefold())
            if match is not None:
                self.aliases[source] = match
            else:
                missing.append((source, path))
        self._rebuild()
        _header_problems_raise(header, missing)
        return [
            _('Column "%(source)s" (%(path)s) is not in the CSV header; the field stays empty.')
            % {"source": source, "path": path}
            for source, path in missing
            if path.removeprefix("fields.") not in REQUIRED_FIELDS
        ]

    def _inherit(self, name: str, raw: Any, group: Any) -> Any:
        """Fill-down: a blank value takes the last value of the field in the same group (the rows
        of a group are consecutive, like the variant rows of Shopify's product CSV)."""
        if not _blank(raw):
            self._inherited[name] = (group, raw)
            return raw
        last = self._inherited.get(name)
        if last is not None and not _blank(group) and last[0] == group:
            return last[1]
        return raw

    def source_probe(self) -> SourceProbe:
        """A watcher of the first items of a JSON/XML feed for sources that never occur in them."""
        return SourceProbe(sources=self.sources, limit=SOURCE_PROBE_ITEMS)

    def _meta_listed(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        """``"meta": [sources]``: each source's value (an object flattened under its name)."""
        pairs: list[tuple[str, Any]] = []
        for source, key in self._meta_keys:
            value = value_get(data, key)
            if type(value) is dict:
                pairs.extend(item_flatten(value, source))
            else:
                pairs.append((source, value))
        return pairs

    def _meta_rest(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        """``"meta": "rest"``: every leaf of the item that no field reads."""
        verdicts = self._rest_verdicts
        pairs: list[tuple[str, Any]] = []
        for key, value in data.items():
            leaves = item_flatten(value, key) if type(value) is dict else ((key, value),)
            for leaf, leaf_value in leaves:
                keep = verdicts.get(leaf)
                if keep is None:
                    keep = self._rest_keeps(leaf)
                    if len(verdicts) < _REST_KEYS_CACHED:
                        verdicts[leaf] = keep
                if keep:
                    pairs.append((leaf, leaf_value))
        return pairs

    def _rest_keeps(self, key: str) -> bool:
        used = self._used
        return key not in used and key not in self._used_ancestors and not _has_used_ancestor(key, used)

    def _rebuild(self) -> None:
        """Resolve the sources through the aliases and generate ``item_map`` for them."""
        used = {self.aliases.get(s, s) for plan in self.plans for s in plan.sources}
        ancestors: set[str] = set()
        for source in used:
            parts = source.split(".")
            ancestors.update(".".join(parts[:i]) for i in range(1, len(parts)))
        self._used = frozenset(used)
        self._used_ancestors = frozenset(ancestors)
        self._rest_verdicts = {}
        if isinstance(self.meta, tuple):
            self._meta_keys = tuple((s, self.aliases.get(s, s)) for s in self.meta)
        self.item_map_source, namespace = _item_map_generate(self)
        self.item_map = _item_map_compile(self.item_map_source, namespace)


def _header_problems_raise(header: Sequence[str], missing: list[tuple[str, str]]) -> None:
    """Raise ``ProfileBindError`` when a required field's column is not in the CSV header."""
    fatal = [
        _('column "%(source)s" (%(path)s)') % {"source": source, "path": path}
        for source, path in missing
        if path.removeprefix("fields.") in REQUIRED_FIELDS
    ]
    if not fatal:
        return
    # The header is whatever the server sent: a short, printable excerpt only.
    shown = text_excerpt(", ".join(header[:30]) + (", …" if len(header) > 30 else ""), limit=300)
    message = _("The CSV header lacks %(missing)s. Its columns are: %(columns)s.") % {
        "missing": _(" and ").join(fatal),
        "columns": shown,
    }
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|,"):
        message += " " + _("A single column: is format_options.delimiter right?")
    raise ProfileBindError(message)


# --- code generation -------------------------------------------------------------------------
# The generated function names only its own locals and the constants bound below (K0, T0_1...):
# nothing a profile says is ever written into the source, so a source name cannot inject code.

# Canonical fields: (the converter, the default when unmapped or unusable, the fast path).
# A fast path is a condition on the value ``x`` and the expression it then gives; anything
# else goes through the converter, which is what the reference mapper called for every value.
_REQUIRED_PLAN = {
    "sku": ("_sku", "type(x) is str and (s := x.strip()) and len(s) <= SKU_MAX", "s"),
    "price": (
        "_price",
        "type(x) is Decimal and x.is_finite() and 0 <= x <= PRICE_MAX"
        " and (s := x.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP))",
        "s",
    ),
    "stock": ("_stock", "type(x) is int and 0 <= x <= STOCK_MAX", "x"),
}
_OPTIONAL_PLAN = {
    "partnumber": ("_partnumber", '""', "type(x) is str and len(s := x.strip()) <= PARTNUMBER_MAX", "s"),
    "brand": ("_brand", '""', 'type(x) is str and len(s := " ".join(x.split())) <= BRAND_MAX', "s"),
    "gtin": ("_gtin_input", "None", "type(x) is str", "x.strip() or None"),
    "name": ("_name", '""', "type(x) is str and len(s := html_to_text(x)) <= NAME_MAX", "s"),
    "description": ("_description", '""', "type(x) is str and len(s := x.strip()) <= DESCRIPTION_MAX", "s"),
    "image_url": ("_image_url", '""', "", ""),
    "weight": ("_weight", "None", "", ""),
    "category": ("_category", "()", "", ""),
}
_BEFORE_IDENTITY = ("partnumber", "brand", "gtin")
_AFTER_IDENTITY = ("name", "description", "image_url", "weight", "category")
_CONVERSIONS_CACHED = frozenset({"weight", "category"})  # values that repeat, costly to convert
_IMMUTABLE = frozenset({str, int, bool, Decimal, type(None)})  # a cached value is shared by rows


def _item_map_generate(compiled: CompiledProfile) -> tuple[str, dict[str, Any]]:
    """The source of ``item_map`` for ``compiled`` and the constants it reads."""
    namespace: dict[str, Any] = dict(_NAMESPACE)
    lines = [
        'def item_map(item, *, raw_digest=""):',
        "    data = item.data",
        "    errors = []",
        "    warnings = []",
    ]
    index = {}
    for i, plan in enumerate(compiled.plans):
        index[plan.name] = i
        lines += _field_read_lines(i, plan, compiled, namespace)
    if compiled.meta == "none":
        lines.append("    meta = {}")
    else:
        namespace["meta_pairs"] = (
            compiled._meta_listed if isinstance(compiled.meta, tuple) else compiled._meta_rest
        )
        namespace["META_CACHE"] = {}
        lines.append("    meta = meta_clean(meta_pairs(data), warnings, META_CACHE)")
    for i, plan in enumerate(compiled.plans):
        namespace[f"N{i}"] = plan.name
        lines += [
            f"    if type(v{i}) is str:",
            f"        if not v{i}.isprintable() and controls_found(v{i}):",
            f"            v{i} = controls_strip(v{i})",
            f'            warnings.append(_("%(field)s: control characters removed") % {{"field": N{i}}})',
            f"    elif type(v{i}) is list:",
            f"        v{i} = _list_controls(v{i}, N{i}, warnings)",
        ]
    for name, (convert, condition, fast) in _REQUIRED_PLAN.items():
        i = index[name]
        lines += [
            f"    x = v{i}",
            "    if x is FAILED:",
            f"        {name} = None",
            f"    elif {condition}:",
            f"        {name} = {fast}",
            "    else:",
            f'        {name} = _required("{name}", r{i}, x, {convert}, errors)',
        ]
    lines += _optional_lines(_BEFORE_IDENTITY, index, namespace)
    lines += [
        "    gtin, gtin_raw = _identity(gtin, brand, partnumber, warnings, errors)",
        "    if errors:",
        '        return RowRejection(item.line, "; ".join(errors), raw_excerpt(data), sku or "")',
    ]
    lines += _optional_lines(_AFTER_IDENTITY, index, namespace)
    lines += [
        "    # repr of a tuple of strings: unambiguous whatever the text contains, stable, built in C.",
        "    content = (sku, str(price), stock, gtin, gtin_raw, partnumber, brand, name, description,",
        "               image_url, None if weight is None else str(weight), category,",
        "               tuple(sorted(meta.items())))",
        "    return MappedRow(item.line, sku, price, stock, gtin, gtin_raw, partnumber, brand, name,",
        "                     description, image_url, weight, category, meta, tuple(warnings),",
        '                     sha256(repr(content).encode("utf-8")).hexdigest(), raw_digest)',
    ]
    return "\n".join(lines) + "\n", namespace


def _field_read_lines(
    i: int, plan: FieldPlan, compiled: CompiledProfile, namespace: dict[str, Any]
) -> list[str]:
    """Read field ``i`` into ``r{i}`` (as read) and ``v{i}`` (after its transforms, or FAILED)."""
    keys = [compiled.aliases.get(s, s) for s in plan.sources]
    if not plan.sources:
        namespace[f"C{i}"] = plan.constant
        lines = [f"    r{i} = C{i}"]
    elif plan.as_list:
        for j, key in enumerate(keys):
            namespace[f"K{i}_{j}"] = key
        values = ", ".join(f"value_get(data, K{i}_{j})" for j in range(len(keys)))
        lines = [f"    r{i} = [{values}]"]
    else:
        namespace[f"K{i}"] = keys[0]
        namespace[f"P{i}"] = _path_getter(keys[0])
        lines = [
            f"    r{i} = data.get(K{i}, ABSENT)",
            f"    if r{i} is ABSENT or type(r{i}) is dict:  # a dotted path, or an XML element's text",
            f"        r{i} = P{i}(data)",
        ]
    if plan.inherit:
        namespace[f"G{i}"] = compiled.aliases.get(plan.inherit, plan.inherit)
        namespace[f"I{i}"] = lambda raw, group, name=plan.name: compiled._inherit(name, raw, group)
        lines.append(f"    r{i} = I{i}(r{i}, value_get(data, G{i}))")
    if not plan.transforms:
        return [*lines, f"    v{i} = r{i}"]
    # Transforms are pure: a raw text (or list of texts) seen before gives the value it gave then.
    namespace[f"E{i}"] = f"{plan.name}: "
    namespace[f"TC{i}"] = {}
    key = "_list_key" if plan.as_list else ""
    lines += [
        f"    k = {key}(r{i})" if key else f"    k = r{i} if type(r{i}) is str else None",
        f"    v{i} = MISS if k is None else TC{i}.get(k, MISS)",
        f"    if v{i} is MISS:",
        "        try:",
        f"            v{i} = r{i}",
    ]
    for j, transform in enumerate(plan.transforms):
        namespace[f"T{i}_{j}"] = transform
        lines.append(f"            v{i} = T{i}_{j}(v{i})")
    lines += [
        "        except TransformError as exc:",
        f"            errors.append(E{i} + str(exc))",
        f"            v{i} = FAILED",
        f"        if k is not None and type(v{i}) in IMMUTABLE and len(TC{i}) < CACHE_ENTRIES:",
        f"            TC{i}[k] = v{i}",
    ]
    return lines


def _path_getter(source: str) -> Callable[[dict[str, Any]], Any]:
    """``value_get(data, source)`` with the path split once, not for every item."""
    if "." not in source:
        return lambda data: value_get(data, source)
    # int() reads decimal digits only ("²" is a digit, not a number): such a part indexes nothing.
    steps = tuple((part, int(part) if part.isdecimal() else -1) for part in source.split("."))

    def get(data: dict[str, Any]) -> Any:
        if source in data:
            value = data[source]
        else:
            value = data
            for part, position in steps:
                if isinstance(value, dict):
                    value = value.get(part)
                elif isinstance(value, list) and 0 <= position < len(value):
                    value = value[position]
                else:
                    return None
                if value is None:
                    return None
        if isinstance(value, dict) and TEXT_KEY in value:
            return value[TEXT_KEY]
        return value

    return get


def _list_key(value: list[Any]) -> tuple[str, ...] | None:
    """A list of texts as a cache key (None for anything else)."""
    return tuple(value) if all(type(item) is str for item in value) else None


def _optional_lines(names: tuple[str, ...], index: dict[str, int], namespace: dict[str, Any]) -> list[str]:
    lines = []
    for name in names:
        convert, default, condition, fast = _OPTIONAL_PLAN[name]
        if name not in index:
            lines.append(f"    {name} = {default}")
            continue
        i = index[name]
        lines += [f"    x = v{i}", "    if x is FAILED:", f"        {name} = {default}"]
        if condition:
            lines += [f"    elif {condition}:", f"        {name} = {fast}"]
        if name in _CONVERSIONS_CACHED:
            # A text converted without a warning before converts the same way again.
            namespace[f"CC{i}"] = {}
            lines += [
                f"    elif type(x) is str and ({name} := CC{i}.get(x, MISS)) is not MISS:",
                "        pass",
                "    else:",
                "        n = len(warnings)",
                f'        {name} = _optional("{name}", r{i}, x, {convert}, {default}, warnings)',
                f"        if type(x) is str and len(warnings) == n and len(CC{i}) < CACHE_ENTRIES:",
                f"            CC{i}[x] = {name}",
            ]
        else:
            lines += [
                "    else:",
                f'        {name} = _optional("{name}", r{i}, x, {convert}, {default}, warnings)',
            ]
    return lines


def _item_map_compile(source: str, namespace: dict[str, Any]) -> ItemMap:
    """Compile the generated source; its lines show in tracebacks (the name is the source's digest)."""
    filename = f"<mapper {hashlib.sha256(source.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own code, see above
    return namespace["item_map"]


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if type(value) is str:
        return not value.strip()
    if type(value) is list:
        return all(_blank(item) for item in value)
    return False


def source_present(data: dict[str, Any], source: str) -> bool:
    """Whether ``source`` exists in the item (a key, or a dotted path), even with an empty value."""
    if source in data:
        return True
    value: Any = data
    for part in source.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return True


class SourceProbe:
    """Sources of a JSON/XML profile never found in the first items: a mistyped source maps
    nothing on every row, silently, unless someone says so (CSV headers are checked instead)."""

    KEYS_KEPT = 2000

    def __init__(self, *, sources: list[tuple[str, str]], limit: int) -> None:
        self.pending: dict[str, str] = {}
        for source, path in sources:
            self.pending.setdefault(source, path)
        self.limit = limit
        self.items = 0
        self.keys: set[str] = set()
        self.finished = not self.pending

    def observe(self, data: dict[str, Any]) -> None:
        if self.finished:
            return
        self.items += 1
        for source in [s for s in self.pending if source_present(data, s)]:
            del self.pending[source]
        if self.pending and len(self.keys) < self.KEYS_KEPT:
            for key, _value in item_flatten(data):
                parts = key.split(".")
                self.keys.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        if self.items >= self.limit or not self.pending:
            self.finished = True

    def warnings(self) -> list[str]:
        """One warning per missing source, with a close key of the items as a suggestion."""
        if not self.items:
            return []
        messages = []
        for source, path in self.pending.items():
            field = path.removeprefix("fields.")
            message = _("%(field)s ← %(source)s: not found in any of the first %(count)s items") % {
                "field": field,
                "source": source,
                "count": self.items,
            }
            suggestion = self._suggest(source)
            if suggestion:
                message += _("; did you mean %(suggestion)s?") % {"suggestion": suggestion}
            messages.append(message)
        return messages

    def _suggest(self, source: str) -> str | None:
        keys = sorted(self.keys)
        tail = source.rsplit(":", 1)[-1].casefold()
        for key in keys:  # the same name with another namespace prefix, or another case
            if key.rsplit(":", 1)[-1].casefold() == tail:
                return key
        close = difflib.get_close_matches(source, keys, n=1, cutoff=0.75)
        return close[0] if close else None


def _has_used_ancestor(key: str, used: frozenset[str]) -> bool:
    """``pricing.net.amount`` is used when ``pricing.net`` is a source."""
    position = key.find(".")
    while position != -1:
        if key[:position] in used:
            return True
        position = key.find(".", position + 1)
    return False


_NAMESPACE: dict[str, Any] = {
    "ABSENT": _ABSENT,
    "MISS": _ABSENT,
    "IMMUTABLE": _IMMUTABLE,
    "CACHE_ENTRIES": CACHE_ENTRIES,
    "_list_key": _list_key,
    "FAILED": _FAILED,
    "Decimal": Decimal,
    "ROUND_HALF_UP": ROUND_HALF_UP,
    "MappedRow": MappedRow,
    "RowRejection": RowRejection,
    "TransformError": TransformError,
    "_": _,
    "sha256": hashlib.sha256,
    **{
        function.__name__: function
        for function in (
            value_get,
            raw_excerpt,
            meta_clean,
            controls_found,
            controls_strip,
            html_to_text,
            _list_controls,
            _required,
            _optional,
            _identity,
            _sku,
            _price,
            _stock,
            _partnumber,
            _brand,
            _gtin_input,
            _name,
            _description,
            _image_url,
            _weight,
            _category,
        )
    },
    **{
        name: globals()[name]
        for name in (
            "PRICE_QUANTUM",
            "PRICE_MAX",
            "STOCK_MAX",
            "SKU_MAX",
            "PARTNUMBER_MAX",
            "BRAND_MAX",
            "NAME_MAX",
            "DESCRIPTION_MAX",
        )
    },
}
