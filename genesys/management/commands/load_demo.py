from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from genesys.demo import DemoLoadError, demo_load


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
            lines = demo_load(
                feeds_root=settings.FEEDS_ROOT,
                feed_server_url=options["feed_server_url"],
                reset=options["reset"],
            )
        except DemoLoadError as exc:
            raise CommandError("\n".join(exc.errors)) from None
        for line in lines:
            self.stdout.write(self.style.SUCCESS(line))
