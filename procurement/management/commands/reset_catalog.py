from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from procurement.services.reset import catalog_reset
from procurement.services.scheduling import supplier_ingests_schedule


class Command(BaseCommand):
    help = (
        "Empty the catalog: products, offers, events, active offers, the update stream, feed and "
        "job runs, brands and categories. Suppliers, feeds and mappers are kept, and the ingest of "
        "every supplier with scheduled ingest is scheduled again so the catalog refills."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, **options) -> None:
        if not options["yes"]:
            self.stdout.write(
                self.style.WARNING(
                    "This deletes every product, offer, event, active offer, stream row, run, brand and "
                    "category. Suppliers, feeds and mappers are kept."
                )
            )
            answer = input("Type 'yes' to continue: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Cancelled; nothing was deleted.")
        counts = catalog_reset()
        total = sum(counts.values())
        for label, count in counts.items():
            self.stdout.write(f"  {label}: {count}")
        self.stdout.write(self.style.SUCCESS(f"Catalog reset: {total} rows removed."))
        # The job ledger went with the catalog: reseed the ingest schedule so the catalog refills.
        summary = supplier_ingests_schedule()
        self.stdout.write(f"Supplier ingests scheduled again: {len(summary.created)}.")
