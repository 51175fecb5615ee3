"""Shop job kinds (thin: load, call a service, record)."""

from __future__ import annotations

import logging
from dataclasses import asdict

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import CatalogUpdateStream
from catalog.services.stream_leases import stream_leases_release
from genesys.jobs.context import JobContext, JobOutcome, JobSkip
from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.registry import JobParam, KindDefaults, job_kind
from genesys.models import JobKind, JobRun
from prestashop.clients import prestashop_client
from prestashop.errors import ShopConfigError
from prestashop.selectors import products_auto_import_candidates
from prestashop.services.auto_import import products_auto_import
from prestashop.services.reference import shop_reference_sync
from prestashop.services.sync import stream_drain

logger = logging.getLogger(__name__)

# A drain job stops after this many batches so it never holds its slot for hours; when more is
# due, the next drain starts right away.
SYNC_MAX_BATCHES = 50


class ShopRefused(Exception):
    """The shop refused our key: retried with backoff, and visible in the ledger."""


def _shop_configured() -> bool:
    return bool(settings.PRESTASHOP_URL and settings.PRESTASHOP_API_KEY)


def _client():
    try:
        return prestashop_client()
    except ShopConfigError as exc:
        raise JobSkip(str(exc)) from None


def _stream_has_work() -> bool:
    if not _shop_configured():
        return False
    now = timezone.now()
    rows = CatalogUpdateStream.objects.filter(product__id_ecommerce__isnull=False)
    return (
        rows.filter(status=CatalogUpdateStream.Status.PENDING, next_attempt_at__lte=now).exists()
        or rows.filter(status=CatalogUpdateStream.Status.PROCESSING, locked_until__lt=now).exists()
    )


def _sync_again_if_due(run: JobRun) -> None:
    """Drain continuously while there is work, instead of waiting for the next tick."""
    if run.status in {JobRun.Status.SUCCESS, JobRun.Status.WARNING} and _stream_has_work():
        job_enqueue(kind=JobKind.CATALOG_SYNC, triggered_by="continue")


def _sync_abandoned(run: JobRun) -> None:
    """The drain died (the watchdog abandoned it): its claimed rows go back to pending now
    instead of waiting out their lease. One drain job runs at a time (max concurrency 1)."""
    released = stream_leases_release(drainer_dead=True)
    if released.released or released.failed:
        logger.warning(
            "sync run %s abandoned: %d leased rows released, %d parked",
            run.pk, released.released, released.failed,
        )  # fmt: skip


def _sync_key(params: dict) -> str:
    """The drain's key; a drain that follows one run (a quick sync: ingest, then send what it
    produced) has a key of its own, so a drain already queued or running cannot stand in for it."""
    after = params.get("after_run")
    return f"{JobKind.CATALOG_SYNC}:after:{after}" if after else JobKind.CATALOG_SYNC


@job_kind(
    JobKind.CATALOG_SYNC,
    queue="sync",
    key=_sync_key,
    defaults=KindDefaults(max_concurrency=1, retry_attempts=3, retry_backoff_seconds=(30, 120, 600),
                          timeout_seconds=900, stale_after_seconds=1200, schedule="every 10s"),
    has_work=_stream_has_work,
    after=_sync_again_if_due,
    abandoned=_sync_abandoned,
    params={"after_run": JobParam(int, help="the run this drain follows (set by the quick sync)")},
    retention_per_kind=True,  # a quick sync's drain has a key of its own
)  # fmt: skip
def catalog_sync(ctx: JobContext) -> JobOutcome:
    with _client() as client:
        result = stream_drain(client=client, max_batches=SYNC_MAX_BATCHES, should_stop=ctx.stop_requested)
    ctx.log(
        _("%(claimed)s sent in %(batches)s batches: %(done)s done, %(retried)s to retry, %(failed)s parked "
          "(%(seconds)s s)")
        % {"claimed": result.claimed, "batches": result.batches, "done": result.done,
           "retried": result.retried, "failed": result.failed, "seconds": result.seconds}
    )  # fmt: skip
    if result.stopped == "shop_refused":
        raise ShopRefused(result.error)
    status = JobRun.Status.WARNING if result.failed or result.retried else JobRun.Status.SUCCESS
    return JobOutcome(summary=asdict(result), status=status)


def _auto_import_has_work() -> bool:
    return _shop_configured() and products_auto_import_candidates().exists()


@job_kind(
    JobKind.PRODUCT_AUTO_IMPORT,
    queue="sync",
    defaults=KindDefaults(retry_attempts=2, retry_backoff_seconds=(60, 300), timeout_seconds=1800,
                          stale_after_seconds=3600, schedule="*/15 * * * *"),
    has_work=_auto_import_has_work,
)  # fmt: skip
def product_auto_import(ctx: JobContext) -> JobOutcome:
    def each(item) -> None:
        ctx.progress(f"{item.action}: {item.reference} {item.message}".strip())

    with _client() as client:
        result = products_auto_import(client=client, on_item=each)
    status = (
        JobRun.Status.WARNING
        if result.failed or result.conflicts or result.stopped
        else JobRun.Status.SUCCESS
    )
    return JobOutcome(summary=asdict(result), status=status)


@job_kind(
    JobKind.PRESTASHOP_SYNC_CATEGORIES,
    queue="sync",
    defaults=KindDefaults(retry_attempts=3, retry_backoff_seconds=(60, 300, 900), timeout_seconds=900,
                          stale_after_seconds=1800, schedule="0 4 * * *"),
)  # fmt: skip
def prestashop_sync_categories(ctx: JobContext) -> dict:
    with _client() as client:
        return asdict(shop_reference_sync(client=client))
