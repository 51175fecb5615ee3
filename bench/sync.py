"""Benchmark the sync worker: drain stream rows into the fake shop, for both shop backends.

    python bench/sync.py [--rows 5000] [--webservice-rows 500] [--latency-ms 20]
                         [--concurrency 8] [--batch-size 200] [--sqlite]

The fake shop runs in its own process (its own GIL) with a fixed latency per request, like a
shop across a network. Catalog products and their stream rows are generated set-based in a
throw-away database (PostgreSQL by default, ``--sqlite`` for SQLite); each pass queues a new state
for every product and times ``stream_drain`` until the stream is empty, then checks that the
shop holds exactly the queued states. Targets: r_genesys >= 1,000 rows/s, webservice >= 100
rows/s with bounded concurrency.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from setup import bench_arguments, bench_database

BATCH = 5000


def serve(state: str, latency_ms: float, ports: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """Child process: the fake shop on the prepared state until told to stop."""
    from prestashop.fake import FakeShop

    with FakeShop(state=state, latency_ms=latency_ms) as shop:
        ports.put((shop.url, None))
        stop.wait()
        ports.put((shop.url, shop.max_in_flight))


def seed_shop(state: str, count: int) -> list[int]:
    """``count`` shop products, written in one transaction of the fake's store."""
    from prestashop.fake import FakeShop

    shop = FakeShop(state=state)
    try:
        with shop.store.transaction():
            return [shop.add_product(reference=f"BENCH-{i:05d}", price="1", quantity=0) for i in range(count)]
    finally:
        shop.stop()


def make_products(shop_ids: list[int]) -> list[int]:
    """Catalog products linked to the shop products, in bulk."""
    from catalog.models import Brand, Product

    brand = Brand.objects.create(name="Bench")
    ids: list[int] = []
    for start in range(0, len(shop_ids), BATCH):
        batch = [
            Product(gtin=None, brand=brand, partnumber=f"PN{n}", partnumber_normalized=f"PN{n}",
                    name=f"Product {n}", id_ecommerce=shop_id)
            for n, shop_id in enumerate(shop_ids[start : start + BATCH], start=start)
        ]  # fmt: skip
        ids.extend(p.pk for p in Product.objects.bulk_create(batch))
    return ids


def expected_state(n: int, round_no: int) -> tuple[Decimal, int, bool]:
    return Decimal("10.00") + Decimal(n % 97) / 100 + round_no, (n + round_no) % 50, (n + round_no) % 3 != 0


def queue_round(product_ids: list[int], shop_ids: list[int], round_no: int) -> None:
    """One new state per product, through the stream's own set-based writer."""
    from catalog.models import CatalogUpdateStream
    from catalog.services.update_stream import StreamChange, stream_changes_enqueue

    changes = []
    for n, (product_id, shop_id) in enumerate(zip(product_ids, shop_ids, strict=True)):
        price, quantity, active = expected_state(n, round_no)
        payload = {
            "product": {"id": product_id, "id_ecommerce": shop_id},
            "active_offer": None,
            "shop": {"active": active, "price": str(price), "quantity": quantity},
        }
        changes.append(StreamChange(product_id, payload, ["resync"], CatalogUpdateStream.Priority.PRICE))
    for start in range(0, len(changes), BATCH):
        stream_changes_enqueue(changes=changes[start : start + BATCH])


class TimedClient:
    """Counts the time spent waiting for the shop, to tell it apart from the database's share."""

    def __init__(self, client) -> None:
        self.client, self.backend, self.config, self.shop_seconds = client, client.backend, client.config, 0.0

    def update_products(self, updates):
        started = time.perf_counter()
        try:
            return self.client.update_products(updates)
        finally:
            self.shop_seconds += time.perf_counter() - started


def check_shop(state: str, shop_ids: list[int], round_no: int) -> int:
    """How many shop products differ from the state queued in ``round_no``."""
    from prestashop.fake import FakeShop

    shop = FakeShop(state=state)
    try:
        wrong = 0
        for n, shop_id in enumerate(shop_ids):
            product = shop.product(shop_id)
            price, quantity, active = expected_state(n, round_no)
            wrong += (product.price, product.quantity, product.active) != (price, quantity, active)
        return wrong
    finally:
        shop.stop()


def main() -> None:
    parser = bench_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows per r_genesys pass")
    parser.add_argument("--webservice-rows", type=int, default=500, help="rows per webservice pass")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=200, help="r_genesys items per request")
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()

    with bench_database(args) as vendor, tempfile.TemporaryDirectory() as directory:
        from catalog.models import CatalogUpdateStream
        from prestashop.config import ShopConfig
        from prestashop.fake import DEFAULT_TEST_KEY
        from prestashop.r_genesys import RGenesysClient
        from prestashop.services.sync import stream_drain
        from prestashop.webservice import WebserviceClient

        state = str(Path(directory) / "bench-shop.sqlite3")
        count = max(args.rows, args.webservice_rows)
        print(f"database {vendor}; seeding {count} shop and catalog products", flush=True)
        shop_ids = seed_shop(state, count)
        product_ids = make_products(shop_ids)
        ports: multiprocessing.Queue = multiprocessing.Queue()
        stop = multiprocessing.Event()
        server = multiprocessing.Process(
            target=serve, args=(state, args.latency_ms, ports, stop), daemon=True
        )
        server.start()
        url, _ = ports.get(timeout=60)
        print(
            f"fake shop at {url}: {args.latency_ms:g} ms per request, concurrency {args.concurrency}, "
            f"r_genesys batch size {args.batch_size}",
            flush=True,
        )
        rows = []
        round_no = 0
        for backend, rows_per_pass in (("r_genesys", args.rows), ("webservice", args.webservice_rows)):
            config = ShopConfig(url=url, api_key=DEFAULT_TEST_KEY, backend=backend,
                                concurrency=args.concurrency, batch_size=args.batch_size)  # fmt: skip
            client_class = RGenesysClient if backend == "r_genesys" else WebserviceClient
            with client_class(config=config) as raw:
                raw.list_languages()  # connection and version, outside the timing
                for pass_no in range(1, args.passes + 1):
                    round_no += 1
                    queue_round(product_ids[:rows_per_pass], shop_ids[:rows_per_pass], round_no)
                    client = TimedClient(raw)
                    started = time.perf_counter()
                    result = stream_drain(client=client)
                    elapsed = time.perf_counter() - started
                    pending = CatalogUpdateStream.objects.exclude(status="done").count()
                    wrong = check_shop(state, shop_ids[:rows_per_pass], round_no)
                    label = f"{backend} pass {pass_no}"
                    rows.append((label, result, elapsed, client.shop_seconds, pending, wrong))
        stop.set()
        _, peak = ports.get(timeout=60)
        server.join(timeout=10)

    print(f"\n{'drain':<22} {'rows':>6} {'batches':>7} {'seconds':>8} {'rows/s':>8} {'shop s':>7} "
          f"{'failed':>6} {'left':>5} {'wrong':>5}")  # fmt: skip
    for name, result, elapsed, shop_seconds, pending, wrong in rows:
        rate = result.claimed / elapsed
        print(
            f"{name:<22} {result.claimed:>6} {result.batches:>7} {elapsed:>8.2f} {rate:>8.0f} "
            f"{shop_seconds:>7.2f} {result.failed:>6} {pending:>5} {wrong:>5}"
        )
    print(f"peak requests in flight at the shop: {peak} (bound: {args.concurrency})")
    print("shop s: time waiting for update_products; the rest is claiming and settling in the database.")
    print("webservice pass 1 looks up each stock row; later passes reuse the client's cached row ids.")


if __name__ == "__main__":
    main()
