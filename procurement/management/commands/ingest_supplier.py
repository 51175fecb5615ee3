from __future__ import annotations

import sys
import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from genesys.admin_tools import moment_short
from genesys.jobs.progress import ProgressMeter
from procurement.models import FeedRun, Supplier, SupplierFeed
from procurement.progress import ingest_measure, progress_bar
from procurement.selectors import feed_expected_rows, feed_find, supplier_find
from procurement.services.ingest import IngestProgress, supplier_ingest
from procurement.services.runs import IngestAlreadyRunning


class Command(BaseCommand):
    help = "Ingest a supplier's feeds now, in the foreground, with progress on a terminal."

    def add_arguments(self, parser) -> None:
        parser.add_argument("supplier", help="supplier id or name")
        parser.add_argument("--feed", help="only this feed (id or name)")
        parser.add_argument("--dry-run", action="store_true", help="read and count, write nothing")
        parser.add_argument(
            "--force-unseen",
            action="store_true",
            help="zero offers missing from this run even if the safety guard would skip it",
        )

    def handle(self, *args, **options) -> None:
        try:
            supplier = supplier_find(reference=options["supplier"])
            feed = feed_find(reference=options["feed"], supplier=supplier) if options["feed"] else None
        except (Supplier.DoesNotExist, SupplierFeed.DoesNotExist) as exc:
            raise CommandError(str(exc)) from None
        tty = sys.stdout.isatty()
        started = time.monotonic()
        expected: dict[int, int | None] = {}
        meters: dict[tuple[int, str], ProgressMeter] = {}

        def progress(p: IngestProgress) -> None:
            if not tty:
                return
            rate = p.rows_read / max(time.monotonic() - started, 0.001)
            line = (
                f"\r{p.feed}: {p.rows_read:>10,} rows  {p.rows_valid:>10,} valid"
                f"  {p.rows_rejected:>8,} rejected  {rate:>9,.0f} rows/s  [{p.phase}]"
            )
            if p.feed_id not in expected and p.phase == "rows" and not p.body_bytes:
                expected[p.feed_id] = feed_expected_rows(feed_id=p.feed_id)
            measure = ingest_measure(
                phase=p.phase, rows_read=p.rows_read, rows_done=p.rows_valid + p.rows_rejected,
                body_bytes=p.body_bytes,
                body_bytes_read=p.body_bytes_read, expected_rows=expected.get(p.feed_id),
            )  # fmt: skip
            if measure is not None:
                meter = meters.setdefault((p.feed_id, measure.unit), ProgressMeter(unit=measure.unit))
                reading = meter.reading(done=measure.done, total=measure.total, now=timezone.now())
                line += f"  {progress_bar(percent=reading['percent'])} {reading['percent']:>4.0f} %"
                if reading["eta"]:
                    line += "  " + _("ends about %(time)s") % {
                        "time": moment_short(datetime.fromisoformat(reading["eta"]))
                    }
            sys.stdout.write(line)
            sys.stdout.flush()

        try:
            runs = supplier_ingest(
                supplier_id=supplier.pk,
                feed_id=feed.pk if feed else None,
                dry_run=options["dry_run"],
                force_unseen=options["force_unseen"],
                triggered_by="command",
                on_progress=progress,
            )
        except IngestAlreadyRunning as exc:
            raise CommandError(str(exc)) from None
        if tty:
            sys.stdout.write("\n")
        if not runs:
            raise CommandError(f"{supplier} has no active feed.")
        failed = False
        for run in runs:
            style = {"success": self.style.SUCCESS, "warning": self.style.WARNING}.get(
                run.status, self.style.ERROR
            )
            self.stdout.write(style(f"{run.feed}: {run.get_status_display()} (run #{run.pk})"))
            self.stdout.write(
                f"  rows {run.rows_read:,} read, {run.rows_valid:,} valid, {run.rows_rejected:,} rejected; "
                f"products {run.products_created:,} created, {run.products_updated:,} updated; "
                f"offers {run.offers_created:,} new, {run.offers_changed:,} changed, "
                f"{run.offers_unchanged:,} unchanged, {run.offers_zeroed:,} zeroed; "
                f"{run.events_created:,} events; {run.stream_rows:,} shop updates queued"
            )
            self.stdout.write(f"  timings (s): {run.timings}")
            for warning in run.warnings[:10]:
                self.stdout.write(self.style.WARNING(f"  ! {warning}"))
            if run.error:
                self.stdout.write(self.style.ERROR(f"  error: {run.error}"))
            failed |= run.status == FeedRun.Status.FAILED
        if failed:
            raise CommandError("At least one feed failed.")
