from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.registry import job_spec, job_specs
from genesys.jobs.runner import job_execute
from genesys.models import JobRun


class Command(BaseCommand):
    help = (
        "Run a job now: queue it for the workers, or with --sync run it here in the foreground, "
        "with its log printed as it goes. The ledger records it either way."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", help="one of: " + ", ".join(sorted(job_specs())))
        parser.add_argument("--key", help='the job key, e.g. "supplier_ingest:3" (per-key kinds)')
        parser.add_argument("--sync", action="store_true", help="run in this process, in the foreground")
        parser.add_argument(
            "--priority",
            choices=JobRun.Priority.values,
            help="the queue a worker takes it from (default: the kind's own, normal or low)",
        )

    def handle(self, *args, **options) -> None:
        try:
            spec = job_spec(options["kind"])
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        params = {}
        if options["key"]:
            if spec.params_from_key is None:
                raise CommandError(f"{spec.kind} takes no key.")
            try:
                params = spec.params_from_key(options["key"])
            except (ValueError, IndexError):
                raise CommandError(f"Cannot read parameters from key {options['key']!r}.") from None
        elif spec.params_from_key is not None:
            raise CommandError(f"{spec.kind} needs --key, e.g. {spec.kind}:1")
        run = job_enqueue(kind=spec.kind, params=params, triggered_by="command", priority=options["priority"])
        if run is None:
            # The run that holds the key; it may have ended since job_enqueue saw it.
            active = JobRun.objects.filter(key=spec.key(params), status__in=JobRun.ACTIVE).first()
            which = f" (run {active.pk})" if active is not None else ""
            raise CommandError(f"A {spec.kind} job with this key is already queued or running{which}.")
        if not options["sync"]:
            self.stdout.write(self.style.SUCCESS(f"Queued run {run.pk} ({run.key})."))
            return
        self.stdout.write(f"Running {run.key} (run {run.pk}) here...")
        try:
            job_execute(run.pk, echo=lambda message: self.stdout.write(f"  {message}"))
        except Exception as exc:  # the ledger has the traceback; the status is reported below
            self.stderr.write(f"  {type(exc).__name__}: {exc}")
        run.refresh_from_db()
        if run.status in {JobRun.Status.FAILED, JobRun.Status.ABANDONED}:
            sys.stderr.write(run.error[-2000:] + "\n")
            raise CommandError(f"Run {run.pk} {run.status}.")
        self.stdout.write(self.style.SUCCESS(f"Run {run.pk}: {run.status} {run.summary}"))
