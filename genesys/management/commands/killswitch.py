from __future__ import annotations

from django.core.management.base import BaseCommand

from genesys.jobs.ledger import kill_switch_set, workers_enabled


class Command(BaseCommand):
    help = "Stop (on) or allow (off) every background job, or show the switch (status)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("state", choices=["on", "off", "status"])

    def handle(self, *args, **options) -> None:
        if options["state"] != "status":
            kill_switch_set(enabled=options["state"] == "off", by="command")
        if workers_enabled():
            self.stdout.write(self.style.SUCCESS("Kill switch is OFF: jobs run."))
        else:
            self.stdout.write(
                self.style.WARNING("Kill switch is ON: no job runs (they are skipped and rescheduled).")
            )
