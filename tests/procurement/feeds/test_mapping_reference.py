"""The compiled mapper gives exactly the rows of the interpreting mapper it replaced.

``tests/support/mapper_reference`` is that mapper, verbatim. Both map the same items, in the same
order (fill-down has state), and every field of every row must be equal: values, warnings and
their order, rejection reasons, the raw excerpt and ``row_hash``. The items are the demo feeds as
the parsers read them, and random profiles over random items built from the values that make
feeds hard (controls, HTML, decimal commas, stock words, lists, nested objects, huge texts).
"""

from __future__ import annotations

import io
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from procurement.feeds.mapping import RawItem, profile_compile
from procurement.feeds.options import feed_settings_parse
from procurement.feeds.parse_csv import csv_items_parse
from procurement.feeds.parse_json import json_items_parse
from procurement.feeds.parse_xml import xml_items_parse
from procurement.feeds.profile import CANONICAL_FIELDS, profile_problems
from tests.support.mapper_reference.items import RawItem as ReferenceItem
from tests.support.mapper_reference.profile import profile_compile as reference_compile


def fields_of(row: Any) -> tuple[str, tuple[Any, ...]]:
    return type(row).__name__, tuple(getattr(row, name) for name in row.__dataclass_fields__)


def both_map(profile: dict[str, Any], items: list[dict[str, Any]], header: list[str] | None = None) -> None:
    compiled, reference = profile_compile(profile=profile), reference_compile(profile=profile)
    if header is not None:
        outcomes = []
        for mapper in (compiled, reference):
            try:
                outcomes.append(mapper.header_bind(header))
            except Exception as exc:  # both refuse the header, with the same words
                outcomes.append((type(exc).__name__, str(exc)))
        assert outcomes[0] == outcomes[1]
        if isinstance(outcomes[0], tuple):
            return
    for line, data in enumerate(items, start=1):
        digest = f"{line:032x}"
        new = compiled.item_map(RawItem(line, data), raw_digest=digest)
        old = reference.item_map(ReferenceItem(line, data), raw_digest=digest)
        assert fields_of(new) == fields_of(old), (profile, data, compiled.item_map_source)


def demo_feeds() -> list[tuple[str, dict[str, Any], list[dict[str, Any]], list[str] | None]]:
    demo = json.loads((settings.BASE_DIR / "demo" / "suppliers.json").read_text())
    found = []
    for supplier in demo["suppliers"]:
        for feed in supplier["feeds"]:
            options = feed_settings_parse(
                format=feed["format"], format_options=feed["format_options"], pagination={}
            ).parse
            name = {"csv": "tarifa.csv", "json": "products.json", "xml": "google-merchant.xml"}[
                feed["format"]
            ]
            path = next(Path(settings.BASE_DIR / "demo" / "feeds").glob(f"*/{name}"))
            file = io.BytesIO(path.read_bytes())
            headers: list[list[str]] = []
            if feed["format"] == "csv":
                entries = csv_items_parse(
                    file=file, options=options, encoding="utf-8", on_header=headers.append, warn=print
                )
            elif feed["format"] == "json":
                entries = json_items_parse(file=file, options=type(options)(items_path="products"))
            else:
                entries = xml_items_parse(file=file, options=options, warn=print)
            items = [entry.data for entry in entries if isinstance(entry, RawItem)]
            found.append((feed["name"], feed["mapper"]["profile"], items, headers[0] if headers else None))
    return found


@pytest.mark.parametrize(("name", "profile", "items", "header"), demo_feeds(), ids=lambda v: str(v)[:20])
def test_the_demo_feeds_map_exactly_as_before(name, profile, items, header):
    assert len(items) >= 10
    both_map(profile, items, header)


# --- random profiles over random items -------------------------------------------------------

KEYS = ["ref", "ean", "marca", "pn", "nome", "desc", "preco", "qty", "img", "peso", "cat", "sub", "extra"]
TEXTS = [
    "",
    "   ",
    "A1",
    " Western   Digital ",
    "5600000010075",
    "5600000010076",
    "36000291452",
    "1,76701E+15",
    "560 0000 01007 5",
    "5600000010280.0",
    "10,50",
    "1.234,56",
    "-3,00",
    "0,00001",
    "10.123456",
    "1000001",
    "Sim",
    "Não",
    "esgotado",
    ">10",
    "<5",
    "3-7",
    "1.000",
    "talvez",
    "42",
    "12 EUR",
    "€ 9,99",
    "USD 3",
    "<b>Bom</b> &amp; barato<br>novo",
    "Informática > Portáteis",
    " > A >  > B ",
    "https://img.example/a.jpg",
    "ftp://img.example/a.jpg",
    "https://img.example/a b.jpg",
    "ctrl\x00char\x07s",
    "lone \ud800 surrogate",
    "tab\tand\nnewline",
    "nbsp\u00a0space",
    "N" * 300,
    "D" * 20_001,
    "P" * 101,
]
VALUES: list[Any] = [
    *TEXTS,
    None,
    0,
    7,
    -2,
    10**7,
    True,
    False,
    Decimal("338.87"),
    Decimal("-0"),
    Decimal("1E+999999"),
    Decimal("0.19"),
    Decimal("5600000010280.0"),
    ["a", "b"],
    ["only"],
    ["", None, "x"],
    ["ctrl\x01", 3],
    [],
    {"#text": "text of an element", "@id": "7"},
    {"net": Decimal("9.99"), "currency": "EUR"},
    {"deep": {"er": "value"}},
]
TRANSFORMS = [
    {"type": "trim"},
    {"type": "lower"},
    {"type": "upper"},
    {"type": "strip_html"},
    {"type": "default", "value": "fallback"},
    {"type": "constant", "value": "5"},
    {"type": "regex", "pattern": r"(\d+)"},
    {"type": "replace", "old": ",", "new": "."},
    {"type": "join", "separator": " > "},
    {"type": "split", "separator": ">"},
    {"type": "map", "values": {"sim": "9", "não": "0"}, "default": "1"},
    {"type": "decimal", "decimal_separator": ",", "thousands_separator": "."},
    {"type": "decimal"},
    {"type": "currency", "expect": "EUR"},
    {"type": "multiply", "by": "1.23"},
    {"type": "stock", "available_quantity": 5, "words": {"talvez": 1}},
    {"type": "stock"},
]


def random_spec(rnd: random.Random, name: str) -> Any:
    kind = rnd.random()
    if kind < 0.25:
        return rnd.choice(KEYS)
    if kind < 0.35 and name != "sku":
        spec: dict[str, Any] = {"constant": rnd.choice(["LG", "10", 3, None])}
    elif kind < 0.5:
        spec = {"source": rnd.sample(KEYS, rnd.randint(1, 3))}
    elif kind < 0.6:
        spec = {"source": rnd.choice(["nested.deep.er", "nested.net", "lista.0", "lista.9", "el"])}
    else:
        spec = {"source": rnd.choice(KEYS)}
    if rnd.random() < 0.6:
        spec["transforms"] = rnd.sample(TRANSFORMS, rnd.randint(1, 3))
    if "source" in spec and name != "sku" and rnd.random() < 0.15:
        spec["inherit"] = rnd.choice(["ref", "extra"])
    return spec


def random_profile(rnd: random.Random) -> dict[str, Any]:
    while True:
        names = ["sku", "price", "stock", rnd.choice(["gtin", "partnumber"])]
        names += rnd.sample([n for n in CANONICAL_FIELDS if n not in names], rnd.randint(0, 7))
        rnd.shuffle(names)  # the order of the fields orders the warnings
        profile: dict[str, Any] = {"fields": {name: random_spec(rnd, name) for name in names}}
        profile["meta"] = rnd.choice(["rest", "none", ["extra", "nested", "cat"], ["nested.deep"]])
        if not profile_problems(profile):
            return profile


def random_item(rnd: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {key: rnd.choice(VALUES) for key in rnd.sample(KEYS, rnd.randint(4, len(KEYS)))}
    if rnd.random() < 0.5:
        item["nested"] = {"deep": {"er": rnd.choice(VALUES)}, "net": rnd.choice(VALUES)}
    if rnd.random() < 0.3:
        item["lista"] = [rnd.choice(VALUES) for _ in range(rnd.randint(0, 3))]
    if rnd.random() < 0.2:
        item["el"] = {"#text": rnd.choice(TEXTS), "@unit": "kg"}
    if rnd.random() < 0.05:
        item.update({f"k{n}": f"v{n}" for n in range(120)})  # past the meta limit
    return item


@pytest.mark.parametrize("seed", range(40))
def test_random_profiles_map_random_items_exactly_as_before(seed):
    rnd = random.Random(seed)
    for _ in range(5):
        profile = random_profile(rnd)
        items = [random_item(rnd) for _ in range(60)]
        both_map(profile, items)


@pytest.mark.parametrize("seed", range(10))
def test_csv_rows_bound_to_a_header_map_exactly_as_before(seed):
    """CSV: every value is text, sources match the header loosely (case, spaces)."""
    rnd = random.Random(1000 + seed)
    header = [key.upper() if rnd.random() < 0.3 else f" {key} " for key in KEYS]
    for _ in range(5):
        profile = random_profile(rnd)
        profile["fields"] = {
            name: spec
            for name, spec in profile["fields"].items()
            if not ("." in json.dumps(spec.get("source", "")) if isinstance(spec, dict) else False)
        }
        if profile_problems(profile):
            continue
        items = [dict(zip(header, (rnd.choice(TEXTS) for _ in header), strict=True)) for _ in range(80)]
        both_map(profile, items, header)


def test_repeated_values_come_from_the_caches_with_the_same_rows():
    """Caches keep results that needed no warning; a warning is given again on every row."""
    profile = {
        "fields": {
            "sku": "ref",
            "gtin": "ean",
            "price": {"source": "preco", "transforms": [{"type": "decimal", "decimal_separator": ","}]},
            "stock": {"source": "qty", "transforms": [{"type": "stock"}]},
            "category": {"source": ["cat", "sub"], "transforms": [{"type": "join", "separator": " > "}]},
            "weight": "peso",
        },
        "meta": "rest",
    }
    rows = [
        {"ref": f"R{n}", "ean": "5600000010075", "preco": "1,5", "qty": rnd_word, "cat": "A" * 130,
         "sub": "B", "peso": "-1", "garantia": "1,76701E+15"}
        for n, rnd_word in enumerate(["Sim", "Sim", "talvez", "Sim", "Não"] * 3)
    ]  # fmt: skip
    both_map(profile, rows)
    compiled = profile_compile(profile=profile)
    first, second = (compiled.item_map(RawItem(n, rows[0])) for n in (1, 2))
    assert first.warnings == second.warnings != ()
