from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from procurement.services.config_io import ConfigImportError, suppliers_import


class Command(BaseCommand):
    help = "Create or update suppliers, feeds and mapper profiles from a JSON file (docs/suppliers-json.md)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options) -> None:
        try:
            data = json.loads(options["file"].read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{options['file']} is not valid JSON: {exc}") from None
        try:
            summary = suppliers_import(data=data)
        except ConfigImportError as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(f"Nothing was imported: {len(exc.errors)} problem(s).") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {', '.join(summary.names)}: suppliers {summary.suppliers_created} created, "
                f"{summary.suppliers_updated} updated; feeds {summary.feeds_created} created, "
                f"{summary.feeds_updated} updated; {summary.mappers_saved} mappers saved."
            )
        )
