"""Benchmark the catalog decisions: active-offer recompute and the end-of-life pass.

    python bench/catalog.py recompute [--products 100000] [--sqlite]
    python bench/catalog.py recompute --sizes 10000,100000 [--reference]
    python bench/catalog.py eol [--products 200000] [--events-per-product 10] [--sqlite]

Targets (PostgreSQL, 2 cores): recompute of 100,000 products with nothing changed <= 1 s; the
10 %-changed drain's cost a product flat as the catalog grows; EOL pass over 200,000 products
with 2,000,000 events <= 10 s. Each recompute figure is printed with its ratio to an in-run
floor (one COPY of the same offer rows). Data is generated in a throw-away database.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from setup import bench_arguments, bench_database, peak_rss_mb, timed

BATCH = 5000


def make_catalog(*, products: int, in_shop_ratio: float, age_days: int) -> list[int]:
    """Products with 1-3 offers each from 5 suppliers; returns the product ids."""
    from django.utils import timezone

    from catalog.models import Brand, Product
    from procurement.models import Supplier, SupplierFeed, SupplierItem

    rnd = random.Random(42)
    brand = Brand.objects.create(name="Bench")
    feeds = []
    for n in range(5):
        supplier = Supplier.objects.create(name=f"Bench supplier {n}", margin=Decimal("0.2"), priority=n)
        feeds.append(
            SupplierFeed.objects.create(supplier=supplier, name="feed", source_url="file:x", format="csv")
        )
    created = timezone.now() - timedelta(days=age_days)
    ids: list[int] = []
    for start in range(0, products, BATCH):
        batch = [
            Product(
                gtin=f"{i:014d}",
                brand=brand,
                partnumber=f"PN{i}",
                partnumber_normalized=f"PN{i}",
                name=f"Product {i}",
                created_at=created,
                id_ecommerce=i if rnd.random() < in_shop_ratio else None,
            )
            for i in range(start + 1, min(start + BATCH, products) + 1)
        ]
        ids.extend(p.pk for p in Product.objects.bulk_create(batch))
    items = []
    for product_id in ids:
        for k in rnd.sample(range(5), rnd.randint(1, 3)):
            feed = feeds[k]
            items.append(
                SupplierItem(
                    feed=feed,
                    supplier_id=feed.supplier_id,
                    product_id=product_id,
                    sku=f"S{product_id}",
                    price=Decimal(rnd.randint(500, 200000)) / 100,
                    stock=rnd.choice([0, 0, 1, 5, 20]),
                    created_at=created,
                    updated_at=created,
                )
            )
        if len(items) >= BATCH:
            SupplierItem.objects.bulk_create(items)
            items = []
    SupplierItem.objects.bulk_create(items)
    analyze()
    return ids


def analyze() -> None:
    """Fresh statistics, as autovacuum would have gathered on a live database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def offers_floor(ids: list[int]) -> None:
    """The in-run floor: read the same offer rows once, as plainly as the database can give them
    (COPY on PostgreSQL, a SELECT on SQLite), so figures from a noisy machine still compare."""
    from django.db import connection

    from procurement.models import SupplierItem

    table = SupplierItem._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY (SELECT product_id, id, supplier_id, feed_id, price, stock FROM {table} "  # noqa: S608
                "WHERE product_id = ANY(%s::bigint[])) TO STDOUT",
                [ids],
            ) as copy:
                for _ in copy:
                    pass
        else:
            cursor.execute(f"SELECT product_id, id, supplier_id, feed_id, price, stock FROM {table}")  # noqa: S608
            cursor.fetchall()


def _per_product(label: str, seconds: float, products: int, floor: float) -> None:
    print(f"    {label}: {seconds * 1e6 / products:7.1f} µs a product, {seconds / floor:6.1f}x the floor")


def bench_recompute(products: int, *, reference: bool = False) -> dict[str, float]:
    """First recompute, nothing changed, and 10 % of the offers changed (through the dirty-set
    drain, as a re-ingest does), each with its ratio to the in-run floor."""
    from catalog.models import CatalogUpdateStream
    from catalog.services.dirty import dirty_products_drain, products_mark_dirty
    from catalog.services.offers import Reason, active_offers_recompute
    from procurement.models import SupplierItem

    results: dict[str, float] = {}
    with timed(f"generate {products:,} products and their offers", results):
        ids = make_catalog(products=products, in_shop_ratio=0.6, age_days=10)
    print(f"  offers: {SupplierItem.objects.count():,}")
    with timed("floor: read the same offer rows once", results):
        offers_floor(ids)
    floor = results["floor: read the same offer rows once"]
    with timed("first recompute (all offers new)", results):
        first = active_offers_recompute(product_ids=ids, reason=Reason.INGEST)
    print(f"    created {first.offers_created:,} active offers, queued {first.stream_rows:,} shop updates")
    CatalogUpdateStream.objects.update(status="done")
    with timed("recompute, nothing changed", results):
        same = active_offers_recompute(product_ids=ids, reason=Reason.INGEST)
    assert not same.changed_product_ids
    _per_product("nothing changed", results["recompute, nothing changed"], products, floor)
    if reference:
        _reference_unchanged(ids, results, floor)
    changed_items = list(SupplierItem.objects.order_by("?").values_list("id", "product_id")[: len(ids) // 10])
    SupplierItem.objects.filter(id__in=[i for i, _ in changed_items]).update(price=Decimal("3.33"), stock=7)
    products_mark_dirty(product_ids=[p for _, p in changed_items])
    with timed("drain, 10 % of offers changed (a re-ingest)", results):
        some = dirty_products_drain()
    print(f"    {len(some.changed_product_ids):,} products changed, {some.stream_rows:,} shop updates queued")
    _per_product("10 % changed", results["drain, 10 % of offers changed (a re-ingest)"], products, floor)
    return results


def _reference_unchanged(ids: list[int], results: dict[str, float], floor: float) -> None:
    """The same unchanged recompute with the Python policy alone (the reference path)."""
    from django.db import transaction

    from catalog.services.offers import (
        CHUNK_SIZE,
        Reason,
        recompute_chunk_apply,
        recompute_chunk_lock,
        recompute_rules,
    )

    rules = recompute_rules(None)
    with timed("recompute, nothing changed (Python reference)", results):
        for start in range(0, len(ids), CHUNK_SIZE):
            with transaction.atomic():
                products, previous = recompute_chunk_lock(ids[start : start + CHUNK_SIZE])
                recompute_chunk_apply(
                    products=products, previous=previous, reasons=lambda _: [Reason.INGEST], rules=rules
                )
    _per_product("reference", results["recompute, nothing changed (Python reference)"], len(ids), floor)


def bench_eol(products: int, events_per_product: int) -> dict[str, float]:
    from django.db import connection
    from django.utils import timezone

    from catalog.models import Product, ProductSupplierEvent
    from catalog.services.eol import products_mark_eol
    from catalog.services.offers import Reason, active_offers_recompute

    results: dict[str, float] = {}
    with timed(f"generate {products:,} products (400 days old)", results):
        ids = make_catalog(products=products, in_shop_ratio=0.5, age_days=400)
        from procurement.models import SupplierItem

        SupplierItem.objects.update(stock=0)  # nothing in stock now: the events decide
        active_offers_recompute(product_ids=ids, reason=Reason.INGEST)
    total_events = products * events_per_product
    now = timezone.now()
    with timed(f"generate {total_events:,} events", results):
        table = ProductSupplierEvent._meta.db_table
        first, last = min(ids), max(ids)
        # Event n of product p, a third of them with stock. Products p % 5 = 0 only have events
        # 200-398 days old, products p % 7 = 0 never had stock: both kinds are EOL (about 31 %).
        # The others' stock events are 111 days apart over 1-399 days ago, so one is recent.
        # (%% is the modulo operator escaped for the driver's placeholders.)
        if connection.vendor == "postgresql":
            sql = f"""
                INSERT INTO {table} (product_id, reason, new_stock, old_stock, note, created_at)
                SELECT p, 'change', CASE WHEN p %% 7 <> 0 AND (p + n) %% 3 = 0 THEN 5 ELSE 0 END, 0, '',
                       %s - make_interval(days => CASE WHEN p %% 5 = 0
                           THEN 200 + (p * 7 + n * 37) %% 199 ELSE 1 + (p * 7 + n * 37) %% 399 END)
                FROM generate_series(%s, %s) AS p, generate_series(1, %s) AS n
            """  # noqa: S608 (our own table name)
            params = [now, first, last, events_per_product]
        else:
            sql = f"""
                WITH RECURSIVE pr(p) AS (SELECT %s UNION ALL SELECT p + 1 FROM pr WHERE p < %s),
                               ev(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM ev WHERE n < %s)
                INSERT INTO {table} (product_id, reason, new_stock, old_stock, note, created_at)
                SELECT p, 'change', CASE WHEN p %% 7 <> 0 AND (p + n) %% 3 = 0 THEN 5 ELSE 0 END, 0, '',
                       datetime(%s, '-' || (CASE WHEN p %% 5 = 0
                           THEN 200 + (p * 7 + n * 37) %% 199 ELSE 1 + (p * 7 + n * 37) %% 399 END)
                           || ' days')
                FROM pr, ev
            """  # noqa: S608 (our own table name)
            params = [first, last, events_per_product, now.strftime("%Y-%m-%d %H:%M:%S")]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        analyze()
    with timed("EOL pass (find, flag, events, shop updates)", results):
        result = products_mark_eol(now=now, eol_days=180)
    print(
        f"    {len(result.flagged_product_ids):,} products marked EOL of {Product.objects.count():,}; "
        f"{result.stream_rows:,} shop deactivations queued"
    )
    with timed("EOL pass again (nothing to do)", results):
        again = products_mark_eol(now=now, eol_days=180)
    assert not again.flagged_product_ids
    return results


def main() -> None:
    parser = bench_arguments(__doc__.splitlines()[0])
    parser.add_argument("which", choices=["recompute", "eol"])
    parser.add_argument("--products", type=int)
    parser.add_argument("--events-per-product", type=int, default=10)
    parser.add_argument("--sizes", help="comma-separated product counts, e.g. 10000,100000")
    parser.add_argument("--reference", action="store_true", help="also time the Python reference path")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else [args.products]
    for size in sizes:
        with bench_database(args) as vendor:  # a fresh database for each size
            print(f"{args.which} on {vendor}")
            if args.which == "recompute":
                bench_recompute(size or 100_000, reference=args.reference)
            else:
                bench_eol(size or 200_000, args.events_per_product)
    print(f"  peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
