"""Mapper transforms (docs/mappers.md): pure functions from one value to the next.

Values are what the parsers produce: ``None`` (missing), ``str``, ``int``, ``Decimal``, ``bool``,
lists and dicts. Text transforms applied to a list apply to each element. A value a transform
cannot handle raises ``TransformError`` with a message that quotes the value; the mapper prefixes
the field name and rejects the row.

Each transform type declares its settings once (``TRANSFORMS``): validation and construction
read the same table, so the documentation, the validator and the code cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.utils.translation import gettext as _

from procurement.feeds.text import accents_fold, controls_escape, html_to_text, scalar_text, spaces_collapse

Transform = Callable[[Any], Any]


class TransformError(ValueError):
    """The value cannot be transformed; the message is for operators and quotes the value."""


def quoted(value: Any, limit: int = 60) -> str:
    """A value as it appears in messages: in double quotes, cut to ``limit`` characters, control
    characters shown as escapes (``\\x00``) so that the message itself can be stored."""
    text = controls_escape(scalar_text(value))
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'


def _each(function: Callable[[Any], Any]) -> Transform:
    """Apply a text function to a value or to every element of a list; None stays None."""

    def apply(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [None if item is None else function(scalar_text(item)) for item in value]
        return function(scalar_text(value))

    return apply


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


# --- numbers ---------------------------------------------------------------------------------

_NBSP = str.maketrans("", "", "\u00a0\u202f\u2007")


def decimal_parse(
    value: Any, *, decimal_separator: str = ".", thousands_separator: str = ""
) -> Decimal | None:
    """Parse a number written with the given separators; ``"1.234,56"`` -> ``Decimal("1234.56")``.

    Nothing is guessed: a separator that is not the configured one is refused, and thousands
    groups must have 3 digits, so ``"1.234"`` in a feed that writes decimals with a comma (and
    declares no thousands separator) is an error, never 1.234. Empty values give None.
    """
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        text = value.strip()
        if not text.isascii():
            text = text.translate(_NBSP).strip()
        if not text:
            return None
        number = _decimal_text(text, decimal_separator, thousands_separator)
        if number is None:
            raise TransformError(_("%(value)s is not a number") % {"value": quoted(value)})
        if number is False:
            raise TransformError(
                _("%(value)s does not match the number format (thousands separator %(sep)s)")
                % {"value": quoted(value), "sep": quoted(thousands_separator)}
            )
        return number
    if kind is Decimal or (kind is int):
        number = Decimal(value)
    elif kind is float:
        number = Decimal(repr(value))
    else:
        raise TransformError(_("%(value)s is not a number") % {"value": quoted(value)})
    if not number.is_finite():
        raise TransformError(_("%(value)s is not a number") % {"value": quoted(value)})
    return number


def _decimal_text(
    text: str, decimal_separator: str, thousands_separator: str
) -> Decimal | Literal[False] | None:
    """The number, None when it is not one, False when its thousands groups are wrong (hot path)."""
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:].lstrip()
    if thousands_separator == " ":
        text = text.replace(" ", "")
    integer, has_decimals, decimals = text.partition(decimal_separator)
    if thousands_separator and thousands_separator in integer:
        groups = integer.split(thousands_separator)
        if not (1 <= len(groups[0]) <= 3) or any(len(group) != 3 for group in groups[1:]):
            return False
        integer = "".join(groups)
    if integer and not (integer.isascii() and integer.isdigit()):
        return None
    if decimals and not (decimals.isascii() and decimals.isdigit()):
        return None
    if not integer and not decimals:
        return None
    return Decimal(f"{sign}{integer or '0'}.{decimals or '0'}" if has_decimals else f"{sign}{integer}")


def _decimal_build(settings: dict[str, Any]) -> Transform:
    decimal_separator = settings.get("decimal_separator", ".")
    thousands_separator = settings.get("thousands_separator") or ""

    def apply(value: Any) -> Any:
        if isinstance(value, list):
            raise TransformError(_("a list of %(count)s values, not a number") % {"count": len(value)})
        return decimal_parse(
            value, decimal_separator=decimal_separator, thousands_separator=thousands_separator
        )

    return apply


def _multiply_build(settings: dict[str, Any]) -> Transform:
    factor = Decimal(str(settings["by"]))

    def apply(value: Any) -> Any:
        if isinstance(value, list):
            raise TransformError(_("a list of %(count)s values, not a number") % {"count": len(value)})
        number = decimal_parse(value)
        if number is None:
            return None
        try:
            return number * factor
        except ArithmeticError:  # beyond what a Decimal can hold (1E+999999 x 10)
            raise TransformError(
                _("%(value)s times %(factor)s is out of range") % {"value": quoted(value), "factor": factor}
            ) from None

    return apply


# --- currency --------------------------------------------------------------------------------

CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "¥": "JPY", "R$": "BRL", "₹": "INR"}
_MONEY = re.compile(
    r"^(?P<pre>[A-Za-z]{3}|[^\d\s+\-.,]{1,3})?\s*"
    r"(?P<number>[+-]?\s*(?:\d[\d\s.,']*|[.,]\d+))"
    r"\s*(?P<post>[A-Za-z]{3}|[^\d\s.,]{1,3})?$"
)


def _currency_build(settings: dict[str, Any]) -> Transform:
    expect = settings["expect"].upper()

    def apply(value: Any) -> Any:
        if value is None or (isinstance(value, int | Decimal) and not isinstance(value, bool)):
            return value
        if isinstance(value, list):
            raise TransformError(_("a list of %(count)s values, not a price") % {"count": len(value)})
        text = scalar_text(value).translate(_NBSP).strip()
        if not text:
            return None
        match = _MONEY.match(text)
        if not match or (match["pre"] and match["post"]):
            raise TransformError(_("%(value)s is not a price") % {"value": quoted(value)})
        written = match["pre"] or match["post"]
        if written:
            code = CURRENCY_SYMBOLS.get(written, written.upper())
            if not code.isalpha() or len(code) != 3 or not code.isascii():
                raise TransformError(
                    _("unknown currency %(symbol)s in %(value)s")
                    % {"symbol": quoted(written), "value": quoted(value)}
                )
            if code != expect:
                raise TransformError(
                    _("currency %(found)s, expected %(expect)s (%(value)s)")
                    % {"found": quoted(code), "expect": quoted(expect), "value": quoted(value)}
                )
        return match["number"].replace(" ", "").strip()

    return apply


# --- stock -----------------------------------------------------------------------------------

# Accent- and case-folded; "_" and "-" between words count as spaces ("in_stock", "out-of-stock").
AVAILABLE_WORDS = frozenset(
    {
        "sim", "s", "yes", "y", "true", "in stock", "instock", "available", "disponivel", "em stock",
        "com stock", "em armazem",
    }
)  # fmt: skip
UNAVAILABLE_WORDS = frozenset(
    {
        "nao", "n", "no", "false", "out of stock", "outofstock", "esgotado", "sem stock", "preorder",
        "pre order", "backorder", "back order", "sob encomenda", "indisponivel", "unavailable",
        "discontinued", "descontinuado",
    }
)  # fmt: skip
_STOCK_AMBIGUOUS = re.compile(r"^\d{1,3}[.,]000$")  # "1.000": one, or a thousand?
_STOCK_FRACTION = re.compile(r"^[+-]?\d+[.,]\d+$")
_STOCK_PATTERNS = (
    (re.compile(r"^[+-]?\d+(?:[.,]0+)?$"), lambda m: int(Decimal(m.group(0).replace(",", ".")))),
    (re.compile(r"^(?:>=?|≥|\+)\s*(\d+)$"), lambda m: int(m.group(1))),  # ">10", "+50": at least
    (re.compile(r"^(\d+)\s*\+$"), lambda m: int(m.group(1))),  # "10+"
    (re.compile(r"^(?:<=|≤)\s*(\d+)$"), lambda m: int(m.group(1))),
    (re.compile(r"^<\s*(\d+)$"), lambda m: max(int(m.group(1)) - 1, 0)),  # "<5": at most 4
    (re.compile(r"^(\d+)\s*-\s*(\d+)$"), lambda m: min(int(m.group(1)), int(m.group(2)))),  # the safe end
)


def words_fold(word: str) -> str:
    return spaces_collapse(accents_fold(word).replace("_", " ").replace("-", " "))


def stock_parse(
    value: Any, *, available_quantity: int = 1, words: dict[str, int] | None = None
) -> int | None:
    """Stock written as a number, a bound, a range or a word (docs/mappers.md); None when empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return available_quantity if value else 0
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return _stock_decimal(value)
    if isinstance(value, list):
        raise TransformError(_("a list of %(count)s values, not a quantity") % {"count": len(value)})
    text = spaces_collapse(scalar_text(value))
    if not text:
        return None
    number = _stock_written(text, value)
    if number is not None:
        return number
    folded = words_fold(text)
    if words and folded in words:
        return words[folded]
    if folded in AVAILABLE_WORDS:
        return available_quantity
    if folded in UNAVAILABLE_WORDS:
        return 0
    raise TransformError(
        _("unknown word %(value)s (add it to the stock transform's words)") % {"value": quoted(value)}
    )


def _stock_decimal(value: Decimal) -> int:
    if value.is_finite() and value.adjusted() > 9:  # 1E+999999: never build that integer
        raise TransformError(_("%(value)s is absurd (more than 1,000,000)") % {"value": quoted(value)})
    if value != value.to_integral_value():
        raise TransformError(_("%(value)s is not a whole number") % {"value": quoted(value)})
    return int(value)


def _stock_written(text: str, value: Any) -> int | None:
    """A stock written with digits (a number, a bound, a range), or None when it is a word."""
    if _STOCK_AMBIGUOUS.match(text):
        raise TransformError(
            _("%(value)s is ambiguous (a decimal or a thousands separator?); put a decimal transform first")
            % {"value": quoted(value)}
        )
    for pattern, read in _STOCK_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return read(match)
            except ValueError:  # thousands of digits: Python refuses to read them as a number
                raise TransformError(
                    _("%(value)s is absurd (more than 1,000,000)") % {"value": quoted(value)}
                ) from None
    if _STOCK_FRACTION.match(text):
        raise TransformError(_("%(value)s is not a whole number") % {"value": quoted(value)})
    return None


def _stock_build(settings: dict[str, Any]) -> Transform:
    available = settings.get("available_quantity", 1)
    words = {words_fold(word): quantity for word, quantity in (settings.get("words") or {}).items()}

    def apply(value: Any) -> Any:
        return stock_parse(value, available_quantity=available, words=words)

    return apply


# --- text ------------------------------------------------------------------------------------


def _regex_build(settings: dict[str, Any]) -> Transform:
    pattern = re.compile(settings["pattern"])
    group = settings.get("group", 1 if pattern.groups else 0)

    def extract(text: str) -> str:
        match = pattern.search(text)
        return (match.group(group) or "") if match else ""

    return _each(extract)


def _key_fold(text: str) -> str:
    """A ``map`` key: case, accents and extra spaces do not matter; punctuation does."""
    return spaces_collapse(accents_fold(text))


def _map_build(settings: dict[str, Any]) -> Transform:
    table = {_key_fold(str(key)): value for key, value in settings["values"].items()}
    has_default = "default" in settings
    default = settings.get("default")

    def lookup(value: Any) -> Any:
        if value is None:
            return default if has_default else None
        key = _key_fold(scalar_text(value))
        if key in table:
            return table[key]
        return default if has_default else value

    def apply(value: Any) -> Any:
        if isinstance(value, list):
            return [lookup(item) for item in value]
        return lookup(value)

    return apply


def _join_build(settings: dict[str, Any]) -> Transform:
    separator = settings.get("separator", " ")

    def apply(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        parts = [scalar_text(item).strip() for item in value if not _is_empty(item)]
        return separator.join(part for part in parts if part)

    return apply


def _split_build(settings: dict[str, Any]) -> Transform:
    separator = settings["separator"]

    def apply(value: Any) -> Any:
        if value is None or isinstance(value, list):
            return value
        return [part.strip() for part in scalar_text(value).split(separator) if part.strip()]

    return apply


def _default_build(settings: dict[str, Any]) -> Transform:
    fallback = settings["value"]
    return lambda value: fallback if _is_empty(value) else value


def _constant_build(settings: dict[str, Any]) -> Transform:
    constant = settings["value"]
    return lambda value: constant


def _replace_build(settings: dict[str, Any]) -> Transform:
    old, new = settings["old"], settings.get("new", "")
    return _each(lambda text: text.replace(old, new))


# --- settings validation ---------------------------------------------------------------------

Check = Callable[[Any], str | None]  # a message when the setting is invalid


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else _("must be text")


def _nonempty_text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else _("must be non-empty text")


def _scalar(value: Any) -> str | None:
    ok = value is None or isinstance(value, str | int | float)
    return None if ok else _("must be text or a number")


def _separator(value: Any) -> str | None:
    return None if value in (".", ",") else _('must be "." or ","')


def _thousands(value: Any) -> str | None:
    return None if value in (None, "", ".", ",", " ", "'") else _('must be ".", ",", " ", "\'" or empty')


def _pattern(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return _("must be a regular expression")
    try:
        re.compile(value)
    except re.error as exc:
        return _("is not a valid regular expression: %(reason)s") % {"reason": exc}
    return None


def _group(value: Any) -> str | None:
    ok = (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
        isinstance(value, str) and value.isidentifier()
    )
    return None if ok else _("must be a group number or name")


def _currency_code(value: Any) -> str | None:
    ok = isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha()
    return None if ok else _('must be a three-letter currency code such as "EUR"')


def _factor(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return _('must be a decimal number written as text, e.g. "0.8130"')
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return _('must be a decimal number written as text, e.g. "0.8130"')
    return None if number.is_finite() else _("must be a finite number")


def _quantity(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1_000_000
    return None if ok else _("must be a whole number between 0 and 1000000")


def _words(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k.strip() and _quantity(v) is None for k, v in value.items()
    ):
        return _('must map words to quantities, e.g. {"limitado": 2}')
    return None


def _values_table(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(_scalar(v) is None for v in value.values()):
        return _("must be an object mapping values to replacements")
    return None


@dataclass(frozen=True, slots=True)
class TransformType:
    build: Callable[[dict[str, Any]], Transform]
    settings: dict[str, Check]
    required: tuple[str, ...] = ()


TRANSFORMS: dict[str, TransformType] = {
    "trim": TransformType(lambda s: _each(spaces_collapse), {}),
    "default": TransformType(_default_build, {"value": _scalar}, ("value",)),
    "constant": TransformType(_constant_build, {"value": _scalar}, ("value",)),
    "regex": TransformType(_regex_build, {"pattern": _pattern, "group": _group}, ("pattern",)),
    "replace": TransformType(_replace_build, {"old": _nonempty_text, "new": _text}, ("old",)),
    "join": TransformType(_join_build, {"separator": _text}),
    "split": TransformType(_split_build, {"separator": _nonempty_text}, ("separator",)),
    "lower": TransformType(lambda s: _each(str.lower), {}),
    "upper": TransformType(lambda s: _each(str.upper), {}),
    "strip_html": TransformType(lambda s: _each(html_to_text), {}),
    "map": TransformType(_map_build, {"values": _values_table, "default": _scalar}, ("values",)),
    "decimal": TransformType(
        _decimal_build, {"decimal_separator": _separator, "thousands_separator": _thousands}
    ),
    "currency": TransformType(_currency_build, {"expect": _currency_code}, ("expect",)),
    "multiply": TransformType(_multiply_build, {"by": _factor}, ("by",)),
    "stock": TransformType(_stock_build, {"available_quantity": _quantity, "words": _words}),
}


def transform_problems(spec: Any) -> list[tuple[str, str]]:
    """(setting, message) pairs for an invalid transform spec; ``""`` as setting means the spec itself."""
    if not isinstance(spec, dict):
        return [("", _('must be an object such as {"type": "trim"}'))]
    kind = spec.get("type")
    if kind not in TRANSFORMS:
        if not kind:
            return [("", _('needs a "type"'))]
        message = _('unknown transform "%(type)s"; the transforms are %(known)s') % {
            "type": kind,
            "known": ", ".join(TRANSFORMS),
        }
        return [("", message)]
    definition = TRANSFORMS[kind]
    problems: list[tuple[str, str]] = []
    for key in definition.required:
        if key not in spec:
            problems.append((key, _("is required for %(type)s") % {"type": kind}))
    for key, value in spec.items():
        if key == "type":
            continue
        check = definition.settings.get(key)
        if check is None:
            allowed = ", ".join(definition.settings) or _("none")
            message = _('unknown setting for "%(type)s" (settings: %(allowed)s)') % {
                "type": kind,
                "allowed": allowed,
            }
            problems.append((key, message))
            continue
        problem = check(value)
        if problem:
            problems.append((key, problem))
    if kind == "regex" and not problems:
        pattern = re.compile(spec["pattern"])
        group = spec.get("group", 1 if pattern.groups else 0)
        if (isinstance(group, int) and group > pattern.groups) or (
            isinstance(group, str) and group not in pattern.groupindex
        ):
            problems.append(("group", _("the pattern has no group %(group)s") % {"group": group}))
    if (
        kind == "decimal"
        and not problems
        and spec.get("thousands_separator")
        and spec.get("thousands_separator") == spec.get("decimal_separator", ".")
    ):
        problems.append(("thousands_separator", _("must differ from decimal_separator")))
    return problems


def transform_build(spec: dict[str, Any]) -> Transform:
    """A callable for a valid spec (check it with ``transform_problems`` first)."""
    return TRANSFORMS[spec["type"]].build(spec)
