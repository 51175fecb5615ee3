from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from procurement.services.config_io import suppliers_export


class Command(BaseCommand):
    help = "Write suppliers, feeds and active mapper profiles as JSON (credentials as variable names)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")

    def handle(self, *args, **options) -> None:
        text = json.dumps(suppliers_export(), ensure_ascii=False, indent=2) + "\n"
        if options["output"]:
            options["output"].write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {options['output']}")
        else:
            self.stdout.write(text, ending="")
