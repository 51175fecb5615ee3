from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from genesys.demo import demo_load
from procurement.services.config_io import ConfigImportError


class Command(BaseCommand):
    help = "Create the demo suppliers, feeds and mappers and copy their sample feeds under FEEDS_ROOT."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--feed-server-url",
            default=os.environ.get("GENESYS_DEMO_FEEDS_URL", "http://127.0.0.1:8082"),
            help="Where serve_demo_feeds answers (default: $GENESYS_DEMO_FEEDS_URL or http://127.0.0.1:8082).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Put the demo suppliers' own settings back (by default existing ones are left as they are).",
        )

    def handle(self, *args, **options) -> None:
        try:
            summary = demo_load(
                feeds_root=settings.FEEDS_ROOT,
                feed_server_url=options["feed_server_url"],
                reset=options["reset"],
            )
        except ConfigImportError as exc:
            # Typically the demo feed server on loopback, refused by the outbound policy.
            raise CommandError(
                "\n".join(
                    [
                        *exc.errors,
                        "The demo feed server listens on loopback: allow it with "
                        "OUTBOUND_ALLOW_HOSTS=127.0.0.1,::1 (make run does), or pass --feed-server-url.",
                    ]
                )
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo suppliers ready: {', '.join(summary.names)} "
                f"({summary.suppliers_created} created, {summary.suppliers_updated} updated, "
                f"{summary.suppliers_kept} left as they were; "
                f"{summary.feeds_created + summary.feeds_updated} feeds, {summary.mappers_saved} mappers). "
                f"Sample files under {settings.FEEDS_ROOT / 'demo'}."
            )
        )
