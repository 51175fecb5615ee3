from __future__ import annotations

from django.core.management.base import BaseCommand

from procurement.services.scheduling import supplier_ingests_schedule


class Command(BaseCommand):
    help = "Create the missing ingest job of every supplier with scheduled ingest (never a duplicate)."

    def handle(self, *args, **options) -> None:
        summary = supplier_ingests_schedule()
        created, existing = len(summary.created), len(summary.existing)
        message = f"{created} ingest job(s) scheduled; {existing} supplier(s) already had one."
        self.stdout.write(self.style.SUCCESS(message))
