"""Throughput sanity check: rows/s of ``update_products`` for both backends against the fake shop.

The fake runs in its own process (so it does not share the client's GIL) with a fixed latency per
request, like a shop across a network. Targets for later: r_genesys batches >= 1,000 rows/s,
webservice >= 100 rows/s with bounded concurrency.

    python bench/shop_clients.py [--latency-ms 20] [--concurrency 8] [--batch-size 200]
                                 [--webservice-rows 400] [--r-genesys-rows 5000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

# Runs as a plain script from anywhere: the project root goes on the import path first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prestashop.config import ShopConfig
from prestashop.fake import DEFAULT_TEST_KEY, FakeShop
from prestashop.r_genesys import RGenesysClient
from prestashop.types import ProductUpdate
from prestashop.webservice import WebserviceClient


def serve(state: str, latency_ms: float, ports: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """Child process: run the fake shop on the prepared state until told to stop."""
    with FakeShop(state=state, latency_ms=latency_ms) as shop:
        ports.put((shop.url, None))
        stop.wait()
        ports.put((shop.url, shop.max_in_flight))


def seed_products(state: str, count: int) -> list[int]:
    shop = FakeShop(state=state)
    try:
        return [shop.add_product(reference=f"BENCH-{i:05d}", price="10", quantity=1) for i in range(count)]
    finally:
        shop.stop()


def updates_for(ids: list[int], round_no: int) -> list[ProductUpdate]:
    """Every row changes price, stock and active, like a sync after a supplier feed."""
    return [
        ProductUpdate(
            pid,
            price=Decimal("10") + Decimal(i % 97) / 100 + round_no,
            quantity=(i + round_no) % 50,
            active=(i + round_no) % 3 != 0,
        )
        for i, pid in enumerate(ids)
    ]


def measure(client: WebserviceClient | RGenesysClient, ids: list[int], round_no: int) -> tuple[float, int]:
    updates = updates_for(ids, round_no)
    started = time.perf_counter()
    results = client.update_products(updates)
    elapsed = time.perf_counter() - started
    failed = sum(not result.ok for result in results)
    return len(updates) / elapsed, failed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--webservice-rows", type=int, default=400)
    parser.add_argument("--r-genesys-rows", type=int, default=5000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        state = str(Path(directory) / "bench-shop.sqlite3")
        ids = seed_products(state, max(args.webservice_rows, args.r_genesys_rows))
        ports: multiprocessing.Queue = multiprocessing.Queue()
        stop = multiprocessing.Event()
        server = multiprocessing.Process(
            target=serve, args=(state, args.latency_ms, ports, stop), daemon=True
        )
        server.start()
        url, _ = ports.get(timeout=30)
        print(
            f"fake shop at {url}: {args.latency_ms:g} ms latency per request, "
            f"concurrency {args.concurrency}, r_genesys batch size {args.batch_size}"
        )
        rows: list[tuple[str, int, float, int]] = []
        for backend, count in (("webservice", args.webservice_rows), ("r_genesys", args.r_genesys_rows)):
            config = ShopConfig(
                url=url,
                api_key=DEFAULT_TEST_KEY,
                backend=backend,
                concurrency=args.concurrency,
                batch_size=args.batch_size,
            )
            client_class = RGenesysClient if backend == "r_genesys" else WebserviceClient
            with client_class(config=config) as client:
                client.list_languages()  # connection and version, outside the timing
                for round_no, label in enumerate(("first pass", "second pass")):
                    rate, failed = measure(client, ids[:count], round_no)
                    rows.append((f"{backend} ({label})", count, rate, failed))
        stop.set()
        _, peak = ports.get(timeout=30)
        server.join(timeout=10)

    print(f"{'backend':<28} {'rows':>6} {'rows/s':>9} {'failed':>7}")
    for name, count, rate, failed in rows:
        print(f"{name:<28} {count:>6} {rate:>9.0f} {failed:>7}")
    print(f"peak requests in flight at the shop: {peak} (bound: {args.concurrency})")
    print("webservice first pass looks up each stock row; the second reuses the cached row ids.")


if __name__ == "__main__":
    main()
