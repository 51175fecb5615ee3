"""Raw items as the parsers yield them, and how a mapper source finds a value inside one.

An item is a dict: CSV columns by header; JSON objects as parsed (numbers as ``int`` or
``Decimal``, never ``float``); XML elements as nested dicts (see ``parse_xml``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from procurement.feeds.text import controls_escape

RAW_MAX_KEYS = 20
RAW_MAX_CHARS = 200
TEXT_KEY = "#text"  # the text of an XML element that also has attributes or children


@dataclass(slots=True)
class RawItem:
    """One item of the feed; ``line`` is its 1-based position (CSV: physical line of the record)."""

    line: int
    data: dict[str, Any]


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


def scalar_text(value: Any) -> str:
    """A scalar as text: numbers without float noise, booleans as JSON writes them."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


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
