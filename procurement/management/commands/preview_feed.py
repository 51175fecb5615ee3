from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from procurement.feeds.mapping import MappedRow
from procurement.feeds.preview import PREVIEW_MAX_ROWS, feed_preview
from procurement.models import SupplierFeed

COLUMNS = (
    ("line", 6),
    ("sku", 18),
    ("price", 11),
    ("stock", 6),
    ("gtin", 15),
    ("brand", 14),
    ("partnumber", 16),
    ("name", 40),
    ("category", 28),
)


class Command(BaseCommand):
    help = (
        "Show the first rows of a feed as the ingest would read them (canonical values, rejected rows "
        "and warnings). Downloads the feed; writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("feed", help='The feed id, or "Supplier name/Feed name".')
        parser.add_argument("--rows", type=int, default=20, help=f"Items to read (1-{PREVIEW_MAX_ROWS}).")
        parser.add_argument(
            "--profile",
            type=Path,
            help="Preview with this mapper profile (a JSON file) instead of the feed's active mapper.",
        )
        parser.add_argument("--json", action="store_true", help="Print the canonical rows as JSON Lines.")
        parser.add_argument(
            "--max-seconds",
            type=float,
            help="Stop the download and parse after this long (default: FEED_PREVIEW_MAX_SECONDS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        feed = _feed_find(options["feed"])
        profile = None
        if options["profile"] is not None:
            try:
                profile = json.loads(options["profile"].read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(
                    _("Cannot read the profile %(path)s: %(reason)s")
                    % {"path": options["profile"], "reason": exc}
                ) from None
        if options["max_seconds"] is not None and options["max_seconds"] <= 0:
            raise CommandError(_("--max-seconds must be more than 0."))
        preview = feed_preview(
            feed=feed, rows=options["rows"], profile=profile, max_seconds=options["max_seconds"]
        )
        stats = preview.stats
        mapper = (
            _('mapper "%(name)s"') % {"name": preview.mapper_name}
            if preview.mapper_name
            else _("the given profile")
        )
        self.stdout.write(self.style.MIGRATE_HEADING(f"{feed} — {mapper}"))
        self.stdout.write(
            _(
                "%(read)s rows read: %(valid)s valid, %(rejected)s rejected; %(pages)s page(s), "
                "%(bytes)s bytes, download %(download).2f s, parse %(parse).2f s"
            )
            % {
                "read": stats.rows_read,
                "valid": len(preview.rows),
                "rejected": len(preview.rejections),
                "pages": stats.pages_fetched,
                "bytes": f"{stats.bytes_downloaded:,}",
                "download": stats.download_seconds,
                "parse": stats.parse_seconds,
            }
        )
        if preview.notice:
            self.stdout.write(self.style.WARNING(preview.notice))
        self.stdout.write("")
        if options["json"]:
            for row in preview.rows:
                self.stdout.write(json.dumps(_row_json(row), ensure_ascii=False))
        elif preview.rows:
            self.stdout.write("  ".join(name.ljust(width) for name, width in COLUMNS).rstrip())
            for row in preview.rows:
                cells = [
                    str(row.line),
                    row.sku,
                    str(row.price),
                    str(row.stock),
                    row.gtin or "-",
                    row.brand or "-",
                    row.partnumber or "-",
                    row.name or "-",
                    " > ".join(row.category) or "-",
                ]
                self.stdout.write(
                    "  ".join(
                        _fit(cell, width) for cell, (_name, width) in zip(cells, COLUMNS, strict=True)
                    ).rstrip()
                )
        self._section(_("Rejected rows:"), [f"line {r.line}: {r.reason}" for r in preview.rejections])
        self._section(
            _("Row warnings:"), [f"line {line}: {warning}" for line, warning in preview.row_warnings]
        )
        self._section(_("Feed warnings:"), stats.warnings)
        if preview.error:
            raise CommandError(preview.error)

    def _section(self, title: str, lines: list[str]) -> None:
        if lines:
            self.stdout.write(self.style.WARNING(f"\n{title}"))
            for line in lines:
                self.stdout.write(f"  {line}")


def _feed_find(value: str) -> SupplierFeed:
    queryset = SupplierFeed.objects.select_related("supplier")
    if value.isdigit():
        feed = queryset.filter(pk=int(value)).first()
    else:
        supplier, _sep, name = value.partition("/")
        feed = queryset.filter(supplier__name=supplier.strip(), name=name.strip()).first()
    if feed is None:
        raise CommandError(
            _('No feed "%(feed)s"; give its id or "Supplier name/Feed name".') % {"feed": value}
        )
    return feed


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def _row_json(row: MappedRow) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in (f.name for f in dataclasses.fields(row)):
        value = getattr(row, name)
        data[name] = (
            str(value) if isinstance(value, Decimal) else list(value) if isinstance(value, tuple) else value
        )
    return data
