from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from procurement.feeds.demo_server import PRODUCTS_PATH, demo_server_create

ENV_NAME = "NORTECH_API_TOKEN"


class Command(BaseCommand):
    help = (
        "Serve the demo Nortech supplier API (paged JSON, bearer token from $NORTECH_API_TOKEN) "
        "for the demo feeds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8082)

    def handle(self, *args: Any, **options: Any) -> None:
        token = os.environ.get(ENV_NAME, "").strip()
        if not token:
            raise CommandError(
                f"{ENV_NAME} is not set: the demo API checks that bearer token, and the Nortech "
                "feed sends it. `make run` generates one into var/genesys.env."
            )
        products = Path(settings.BASE_DIR) / "demo" / "feeds" / "nortech" / "products.json"
        try:
            server = demo_server_create(
                host=options["host"], port=options["port"], token=token, products_file=products
            )
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc.strerror}."
            ) from None
        host, port = server.socket.getsockname()[:2]  # what server_address holds, as str and int
        self.stdout.write(
            f"Demo feeds on http://{host}:{port}{PRODUCTS_PATH}?page=1&per_page=10 (Ctrl-C stops)"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
