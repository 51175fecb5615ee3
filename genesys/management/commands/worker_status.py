from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from genesys.jobs.ledger import workers_enabled
from genesys.jobs.selectors import kinds_status, workers_alive


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


class Command(BaseCommand):
    help = "A table of job kinds: enabled, running, queued, last success, last failure, next run."

    def handle(self, *args, **options) -> None:
        header = (
            "kind",
            "enabled",
            "running",
            "queued",
            "last success",
            "last failure",
            "next run",
            "schedule",
        )
        rows = [
            (s.kind, "yes" if s.enabled else "NO", str(s.running), str(s.queued), _when(s.last_success),
             _when(s.last_failure), _when(s.next_run), s.schedule or "-")
            for s in kinds_status()
        ]  # fmt: skip
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
            )
        workers = workers_alive()
        self.stdout.write("")
        self.stdout.write(f"Workers alive: {len(workers)} ({', '.join(w.name for w in workers) or 'none'})")
        switch = "OFF (jobs run)" if workers_enabled() else "ON (jobs are skipped)"
        self.stdout.write(f"Kill switch: {switch}")
