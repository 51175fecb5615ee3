"""Benchmark the mapper alone: µs per row to turn parsed items into canonical rows.

    python bench/mapper.py [--rows 100000] [--repeat 3] [--no-reference]

No database: the items are parsed once, then mapped; every figure is CPU time (``process_time``,
best of ``--repeat``), printed with an in-run floor so that figures from a busy machine still
compare: for CSV a bare ``csv.reader`` pass over the same file, for JSON Lines ``json.loads`` of
each line, for XML a bare ``lxml`` iterparse. ``reference`` is the interpreting mapper this one
replaced (tests/support/mapper_reference), mapping the same items; the rows must be identical.

Target: mapping well below the writer's budget of 80 µs a row (8 s per 100,000-row first
ingest); aim ≤ 20 µs a row on the CSV feed of bench/ingest.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from setup import ROOT, bench_arguments

CSV_PROFILE = None  # bench/ingest.py's profile, read in main() once Django is set up
JSON_PROFILE = {
    "fields": {
        "sku": "sku",
        "gtin": "ean",
        "brand": "manufacturer",
        "partnumber": "mpn",
        "name": "title",
        "category": "category.path",
        "image_url": "images.0",
        "weight": "attributes.weight_kg",
        "price": "pricing.net",
        "stock": "availability.qty",
    },
    "meta": ["attributes.warranty_months"],
}
XML_PROFILE = {
    "fields": {
        "sku": "g:id",
        "gtin": "g:gtin",
        "partnumber": "g:mpn",
        "brand": "g:brand",
        "name": "title",
        "category": "g:product_type",
        "image_url": "g:image_link",
        "price": {
            "source": "g:price",
            "transforms": [{"type": "currency", "expect": "EUR"}, {"type": "decimal"}],
        },
        "stock": {"source": "g:availability", "transforms": [{"type": "stock", "available_quantity": 3}]},
    },
    "meta": ["g:condition"],
}


def cpu(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best CPU time of ``repeat`` runs, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        started = time.process_time()
        result = function()
        best = min(best, time.process_time() - started)
    return best, result


def json_lines(rows: int) -> bytes:
    from ingest import gtin13

    rnd = random.Random(7)
    out = io.StringIO()
    for p in range(rows):
        item = {
            "sku": f"NT-{p:08d}",
            "ean": gtin13(p) if p % 10 else "",
            "manufacturer": f"Brand {p % 250}",
            "mpn": f"PN-{p:08d}",
            "title": f"Product {p} {rnd.choice('ABC')}",
            "category": {"path": f"Family {p % 20} > Subfamily {p % 9}"},
            "pricing": {"net": f"{10 + p % 2000}.{p % 100:02d}", "currency": "EUR"},
            "availability": {"qty": p % 40},
            "images": [f"https://img.example/{p}.jpg"],
            "attributes": {"warranty_months": 12 + p % 3 * 12, "weight_kg": f"0.{p % 1000:03d}"},
        }
        # Numbers as JSON numbers (the parser reads them as Decimal): unquote them.
        line = json.dumps(item, ensure_ascii=False)
        line = line.replace(f'"net": "{item["pricing"]["net"]}"', f'"net": {item["pricing"]["net"]}')
        line = line.replace(
            f'"weight_kg": "{item["attributes"]["weight_kg"]}"',
            f'"weight_kg": {item["attributes"]["weight_kg"]}',
        )
        out.write(line + "\n")
    return out.getvalue().encode()


def xml_document(rows: int) -> bytes:
    from ingest import gtin13

    words = ["in stock", "out of stock", "preorder"]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:g="http://base.google.com/ns/1.0"><channel>']
    for p in range(rows):
        parts.append(
            f"<item><g:id>EE-{p:08d}</g:id><title>Product {p} &amp; co</title><g:gtin>{gtin13(p)}</g:gtin>"
            f"<g:mpn>PN-{p:08d}</g:mpn><g:brand>Brand {p % 250}</g:brand>"
            f"<g:price>{10 + p % 2000}.50 EUR</g:price><g:availability>{words[p % 3]}</g:availability>"
            f"<g:product_type>Family {p % 20} &gt; Sub</g:product_type>"
            f"<g:image_link>https://cdn.example/p/{p}.jpg</g:image_link><g:condition>new</g:condition></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


def measure(
    label: str,
    *,
    profile: dict[str, Any],
    items: list[Any],
    header: list[str] | None,
    floor: float,
    parse: float,
    repeat: int,
    reference: bool,
) -> None:
    from procurement.feeds.mapping import profile_compile

    rows = len(items)
    compiled = profile_compile(profile=profile)
    if header is not None:
        compiled.header_bind(header)
    seconds, mapped = cpu(lambda: [compiled.item_map(item) for item in items], repeat)
    per_row = seconds / rows * 1e6
    floor_row = floor / rows * 1e6
    print(f"{label}: {rows:,} rows")
    print(f"  floor (bare parser pass)        {floor_row:8.2f} µs/row")
    print(
        f"  parse into items                {parse / rows * 1e6:8.2f} µs/row  ({parse / floor:5.1f}x floor)"
    )
    print(f"  map, compiled                   {per_row:8.2f} µs/row  ({seconds / floor:5.1f}x floor)")
    if reference:
        from tests.support.mapper_reference.items import RawItem as OldItem
        from tests.support.mapper_reference.profile import profile_compile as old_compile

        old = old_compile(profile=profile)
        if header is not None:
            old.header_bind(header)
        old_items = [OldItem(item.line, item.data) for item in items]
        old_seconds, old_mapped = cpu(lambda: [old.item_map(item) for item in old_items], 1)
        print(
            f"  map, reference (interpreted)    {old_seconds / rows * 1e6:8.2f} µs/row  "
            f"({old_seconds / floor:5.1f}x floor; compiled is {old_seconds / seconds:4.1f}x faster)"
        )
        same = all(_fields(a) == _fields(b) for a, b in zip(mapped, old_mapped, strict=True))
        print(f"  rows identical to the reference {'yes' if same else 'NO'}")
        if not same:
            sys.exit(1)


def _fields(row: Any) -> tuple:
    return tuple(getattr(row, name) for name in row.__dataclass_fields__)


def main() -> None:
    parser = bench_arguments(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="skip the reference mapper")
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genesys.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from ingest import PROFILE, feed_write
    from lxml import etree

    from procurement.feeds.options import CsvOptions, JsonOptions, XmlOptions
    from procurement.feeds.parse_csv import csv_items_parse
    from procurement.feeds.parse_json import json_items_parse
    from procurement.feeds.parse_xml import xml_items_parse

    reference = not args.no_reference
    with tempfile.TemporaryDirectory(prefix="genesys-bench-mapper-") as tmp:
        path = Path(tmp) / "feed.csv"
        feed_write(path=path, supplier=0, rows=args.rows)

        def csv_floor() -> int:
            with path.open(newline="", encoding="utf-8") as file:
                return sum(1 for _ in csv.reader(file, delimiter=";"))

        def csv_items() -> list[Any]:
            headers: list[list[str]] = []
            with path.open("rb") as file:
                items = list(
                    csv_items_parse(
                        file=file,
                        options=CsvOptions(delimiter=";"),
                        encoding="utf-8",
                        on_header=headers.append,
                        warn=lambda message: None,
                    )
                )
            return [headers[0], items]

        floor, _count = cpu(csv_floor, args.repeat)
        parse, (header, items) = cpu(csv_items, 1)
        measure(
            "CSV (bench/ingest.py's feed)",
            profile=PROFILE,
            items=items,
            header=header,
            floor=floor,
            parse=parse,
            repeat=args.repeat,
            reference=reference,
        )
    body = json_lines(args.rows)
    floor, _count = cpu(lambda: [json.loads(line) for line in body.splitlines()], args.repeat)
    parse, items = cpu(
        lambda: list(json_items_parse(file=io.BytesIO(body), options=JsonOptions(lines=True))), 1
    )
    measure(
        "JSON Lines (nested, the demo Nortech profile)",
        profile=JSON_PROFILE,
        items=items,
        header=None,
        floor=floor,
        parse=parse,
        repeat=args.repeat,
        reference=reference,
    )
    body = xml_document(args.rows)

    def xml_floor() -> int:
        count = 0
        for _event, element in etree.iterparse(io.BytesIO(body), events=("end",)):
            if element.tag == "item":
                count += 1
                element.clear()
        return count

    floor, _count = cpu(xml_floor, args.repeat)
    parse, items = cpu(
        lambda: list(xml_items_parse(file=io.BytesIO(body), options=XmlOptions(item_tag="item"), warn=print)),
        1,
    )
    measure(
        "XML (Google Merchant, the demo EuroElectro profile)",
        profile=XML_PROFILE,
        items=items,
        header=None,
        floor=floor,
        parse=parse,
        repeat=args.repeat,
        reference=reference,
    )


if __name__ == "__main__":
    main()
