"""The daily ``maintenance`` job: retention, RQ registries, and a watchdog pass."""

from __future__ import annotations

from datetime import timedelta

import django_rq
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rq.registry import clean_registries

from genesys.jobs.context import JobContext
from genesys.jobs.registry import KindDefaults, job_kind
from genesys.jobs.watchdog import jobs_watchdog
from genesys.models import JobKind, JobRun

PRUNE_BATCH = 5000


def job_runs_prune(*, before) -> int:
    """Delete ended runs (and their log lines) older than ``before``, in batches."""
    ended = JobRun.objects.filter(finished_at__lt=before).exclude(status__in=JobRun.ACTIVE)
    deleted = 0
    while ids := list(ended.order_by("id").values_list("id", flat=True)[:PRUNE_BATCH]):
        deleted += JobRun.objects.filter(id__any_of=ids).delete()[1].get("genesys.JobRun", 0)
    return deleted


@job_kind(
    JobKind.MAINTENANCE,
    queue="maintenance",
    defaults=KindDefaults(retry_attempts=1, retry_backoff_seconds=(600,), timeout_seconds=1800,
                          stale_after_seconds=3600, schedule="30 2 * * *"),
)  # fmt: skip
def maintenance(ctx: JobContext) -> dict:
    from catalog.services.update_stream import stream_rows_prune
    from procurement.services.runs import feed_runs_prune

    before = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    summary = {
        "retention_days": settings.RETENTION_DAYS,
        "stream_rows_deleted": stream_rows_prune(before=before),
        "feed_runs_deleted": feed_runs_prune(before=before),
        "job_runs_deleted": job_runs_prune(before=before),
    }
    ctx.progress(
        _("pruned: %(stream)s shop updates, %(feeds)s feed runs, %(jobs)s job runs (over %(days)s days old)")
        % {"stream": summary["stream_rows_deleted"], "feeds": summary["feed_runs_deleted"],
           "jobs": summary["job_runs_deleted"], "days": summary["retention_days"]}
    )  # fmt: skip
    for name in settings.GENESYS_QUEUES:
        clean_registries(django_rq.get_queue(name))
    watchdog = jobs_watchdog()
    summary["abandoned"] = len(watchdog.abandoned)
    summary["resubmitted"] = len(watchdog.resubmitted)
    return summary
