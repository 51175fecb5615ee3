"""Benchmark supplier feed ingest: first ingest, unchanged re-ingest, 10 % changed, peak memory.

    python bench/ingest.py [--rows 100000] [--suppliers 3] [--sqlite]
    python bench/ingest.py --rows 1000000 --suppliers 1          # the memory check

Synthetic CSV feeds are written to a temporary FEEDS_ROOT: ``--suppliers`` feeds of ``--rows``
rows each, whose products overlap (each supplier shares three quarters of its products with the
previous one), one row in ten without a GTIN (matched by brand + part number), a category path,
a decimal-comma price, a stock word now and then, and two meta columns. Each feed is ingested
through ``feed_ingest``, exactly as the worker does it (download from the file, streaming parse,
mapper, bulk writes, missing-offer step, active-offer recompute, shop update stream).

The floor comes first, in the same run: a plain COPY of the same feed's rows into an UNLOGGED
table (SQLite: one executemany into a plain table). Each phase prints its seconds, µs per row and
its ratio to the floor, so figures from a loaded machine still compare with each other.

Targets (PostgreSQL, 2 cores, a quiet machine, 100,000 rows): first ingest <= 8 s, unchanged
<= 1.5 s, 10 % changed <= 2.5 s; µs per row flat from 10k to 1M rows (within 20 %); a
1,000,000-row feed with peak RSS <= 200 MB.
"""

from __future__ import annotations

import csv
import os
import random
import tempfile
import time
from pathlib import Path

from setup import bench_arguments, bench_database, peak_rss_mb, timed

PROFILE = {
    "fields": {
        "sku": "ref",
        "gtin": "ean",
        "brand": "brand",
        "partnumber": "mpn",
        "name": "title",
        "description": "description",
        "category": {"source": ["family", "subfamily"], "transforms": [{"type": "join", "separator": " > "}]},
        "price": {"source": "price", "transforms": [{"type": "decimal", "decimal_separator": ","}]},
        "stock": {"source": "stock", "transforms": [{"type": "stock", "available_quantity": 5}]},
    },
    "meta": ["warranty", "energy_class"],
}
HEADER = "ref;ean;brand;mpn;title;description;family;subfamily;price;stock;warranty;energy_class\n"


def gtin13(number: int) -> str:
    """A valid EAN-13 (prefix 560) for ``number``."""
    body = f"560{number:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def feed_write(*, path: Path, supplier: int, rows: int, changed_every: int = 0) -> None:
    """Write one supplier's feed, streaming; ``changed_every`` = n changes price and stock of 1 row in n."""
    offset = supplier * (rows * 3 // 4)  # consecutive suppliers share 3/4 of their products
    rnd = random.Random(supplier)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            p = offset + i
            cents = 1000 + (p * 7919) % 200000
            stock: int | str = (p * 31) % 40
            if changed_every and i % changed_every == 3:
                cents += 100
                stock = (stock + 7) % 40
            if p % 17 == 0:
                stock = "Sim" if stock else "Não"
            ean = "" if p % 10 == 0 else gtin13(p)
            out.write(
                f"S{supplier}-{i:08d};{ean};Brand {p % 250};PN-{p:08d};Product {p} {rnd.choice('ABC')};"
                f"A synthetic product for the benchmark;Family {p % 20};Subfamily {p % 9};"
                f"{cents // 100},{cents % 100:02d};{stock};{1 + p % 3} anos;{'ABCDEF'[p % 6]}\n"
            )


def feeds_create(*, suppliers: int) -> list[int]:
    from decimal import Decimal

    from procurement.models import FeedMapper, Supplier, SupplierFeed

    feed_ids = []
    for n in range(suppliers):
        supplier = Supplier.objects.create(name=f"Bench supplier {n}", margin=Decimal("0.2"), priority=n)
        feed = SupplierFeed.objects.create(
            supplier=supplier,
            name="tarifa",
            source_url=f"file:supplier-{n}.csv",
            format="csv",
            format_options={"delimiter": ";"},
        )
        FeedMapper.objects.create(feed=feed, name="bench", profile=PROFILE, is_active=True)
        feed_ids.append(feed.pk)
    return feed_ids


def floor_copy(*, path: Path) -> float:
    """Seconds to load the feed's rows as they are into a table that nothing checks or logs."""
    from django.db import connection

    columns = ", ".join(f"c{n} text" for n in range(HEADER.count(";") + 1))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            import psycopg

            cursor.execute(f"CREATE UNLOGGED TABLE bench_floor ({columns})")
            started = time.perf_counter()
            with psycopg.Cursor(cursor.cursor.connection) as raw, path.open("rb") as feed:
                with raw.copy("COPY bench_floor FROM STDIN (FORMAT csv, DELIMITER ';', HEADER)") as copy:
                    while block := feed.read(1 << 20):
                        copy.write(block)
        else:
            cursor.execute(f"CREATE TABLE bench_floor ({columns})")
            started = time.perf_counter()
            with path.open(encoding="utf-8", newline="") as feed:
                reader = csv.reader(feed, delimiter=";")
                next(reader)
                marks = ", ".join(["%s"] * (HEADER.count(";") + 1))
                cursor.executemany(f"INSERT INTO bench_floor VALUES ({marks})", reader)  # noqa: S608
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_floor")
    return elapsed


def ingest(feed_id: int, label: str, results: dict[str, float], *, floor: float, rows: int) -> None:
    from procurement.models import FeedRun
    from procurement.services.ingest import feed_ingest

    with timed(label, results):
        run = feed_ingest(feed_id=feed_id, triggered_by="bench")
    seconds = results[label]
    print(
        f"    {seconds / floor:6.1f}x the floor, {seconds / rows * 1e6:6.0f} µs/row, "
        f"peak RSS {peak_rss_mb():.0f} MB",
        flush=True,
    )
    if run.status not in (FeedRun.Status.SUCCESS, FeedRun.Status.WARNING):
        raise SystemExit(f"the ingest ended {run.status}: {run.error}")
    phases = ", ".join(f"{k} {v:.1f}" for k, v in run.timings.items() if k != "total")
    print(
        f"    {run.rows_valid:,} valid, {run.rows_rejected:,} rejected; products +{run.products_created:,}"
        f" ~{run.products_updated:,}; offers +{run.offers_created:,} ~{run.offers_changed:,}"
        f" ={run.offers_unchanged:,}; {run.events_created:,} events; {run.stream_rows:,} shop updates"
        f" [{phases} s]; RSS peak so far {peak_rss_mb():.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = bench_arguments(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per feed")
    parser.add_argument("--suppliers", type=int, default=3, help="feeds to generate (overlapping)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="genesys-bench-feeds-") as root:
        feeds_root = Path(root)
        os.environ["FEEDS_ROOT"] = root
        for n in range(args.suppliers):
            feed_write(path=feeds_root / f"supplier-{n}.csv", supplier=n, rows=args.rows)
        size = sum(f.stat().st_size for f in feeds_root.iterdir()) / 1e6
        with bench_database(args) as vendor:
            print(f"ingest on {vendor}: {args.suppliers} feeds x {args.rows:,} rows ({size:.0f} MB of CSV)")
            floor = floor_copy(path=feeds_root / "supplier-0.csv")
            print(
                f"  {'floor: COPY of the same rows, unlogged':<48} {floor:8.2f} s"
                f"  ({floor / args.rows * 1e6:.1f} µs/row)",
                flush=True,
            )
            feed_ids = feeds_create(suppliers=args.suppliers)
            results: dict[str, float] = {}
            measure = {"floor": floor, "rows": args.rows}
            ingest(feed_ids[0], f"first ingest, empty catalog ({args.rows:,} rows)", results, **measure)
            for n, feed_id in enumerate(feed_ids[1:], start=1):
                ingest(feed_id, f"supplier {n} (3/4 of its products known)", results, **measure)
            ingest(feed_ids[0], "re-ingest unchanged", results, **measure)
            feed_write(path=feeds_root / "supplier-0.csv", supplier=0, rows=args.rows, changed_every=10)
            ingest(feed_ids[0], "re-ingest, 10 % of prices/stock changed", results, **measure)
            print(f"  peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
