from __future__ import annotations

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from prestashop.fake import FakeShop
from prestashop.fake.server import BACKENDS


class Command(BaseCommand):
    help = (
        "Run a fake PrestaShop over HTTP for the demo and manual tests: the Webservice under /api/ and "
        "the r_genesys module under /r_genesys/, seeded with categories, brands and two languages."
    )
    suppressed_base_arguments = {"--version"}

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):
        # --version is the PrestaShop version to imitate; it replaces Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8081, help="Port (default 8081; 0 picks a free one).")
        parser.add_argument(
            "--backend", choices=BACKENDS, default="both", help="Contracts to serve (default both)."
        )
        parser.add_argument("--latency-ms", type=float, default=0, help="Delay added to every request.")
        parser.add_argument(
            "--fail-rate", type=float, default=0.0, help="Share of requests answered 500 (0-1)."
        )
        parser.add_argument(
            "--state", default=":memory:", help="SQLite file that keeps the shop between runs, or :memory:."
        )
        parser.add_argument("--api-key", default=None, help="The key to accept (default PRESTASHOP_API_KEY).")
        parser.add_argument(
            "--version", default="8.1.5", help="PrestaShop version to imitate (1.7.x: no PATCH)."
        )

    def handle(self, *args, **options) -> None:
        api_key = options["api_key"] or settings.PRESTASHOP_API_KEY
        if not api_key:
            raise CommandError(
                "Set PRESTASHOP_API_KEY or pass --api-key (32 characters, like a Webservice key)."
            )
        if len(api_key) != 32:
            raise CommandError("The API key must have 32 characters, like a PrestaShop Webservice key.")
        if not 0 <= options["fail_rate"] <= 1:
            raise CommandError("--fail-rate is a share between 0 and 1.")
        state = options["state"]
        if state != ":memory:":
            Path(state).parent.mkdir(parents=True, exist_ok=True)
        try:
            shop = FakeShop(
                host=options["host"],
                port=options["port"],
                backend=options["backend"],
                api_key=api_key,
                version=options["version"],
                latency_ms=options["latency_ms"],
                fail_rate=options["fail_rate"],
                state=state,
            )
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc.strerror}."
            ) from None
        shop.start()
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        paths = {"webservice": "/api/", "r_genesys": "/r_genesys/"}
        served = ", ".join(f"{name} {paths[name]}" for name in paths if options["backend"] in (name, "both"))
        self.stdout.write(f"Fake PrestaShop {options['version']} listening on {shop.url} ({served})")
        self.stdout.write(
            f"State: {state} ({len(shop.products())} products); key: the value of "
            f"{'--api-key' if options['api_key'] else 'PRESTASHOP_API_KEY'}; Ctrl-C stops."
        )
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            shop.stop()
        self.stdout.write("Fake PrestaShop stopped.")
