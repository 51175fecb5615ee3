"""Catalog job kinds (thin: load, call a service, record)."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _

from catalog.models import DirtyProduct
from catalog.selectors import product_ids_in_category_tree, product_ids_offered_by_supplier
from catalog.services.backlog import stream_backlog_sample
from catalog.services.dirty import dirty_products_drain
from catalog.services.eol import products_mark_eol
from catalog.services.offers import active_offers_recompute
from catalog.services.rates import currency_rates_refresh
from catalog.services.update_stream import stream_rows_prune
from genesys.jobs.context import JobContext
from genesys.jobs.maintenance import maintenance_step
from genesys.jobs.registry import JobParam, JobParamsError, KindDefaults, job_kind
from genesys.models import JobKind

DIRTY_SCOPE = "dirty"

# The nightly maintenance job prunes the shop updates already sent (RETENTION_DAYS).
maintenance_step("stream_rows_deleted")(stream_rows_prune)


@job_kind(
    JobKind.PRODUCT_EOL_CHECK,
    queue="catalog",
    defaults=KindDefaults(retry_attempts=2, retry_backoff_seconds=(300, 900), timeout_seconds=1800,
                          stale_after_seconds=3600, schedule="0 3 * * *"),
)  # fmt: skip
def product_eol_check(ctx: JobContext) -> dict:
    result = products_mark_eol()
    return {"marked_eol": len(result.flagged_product_ids), "stream_rows": result.stream_rows}


def _recompute_key(params: dict) -> str:
    """The sweep of the dirty set is one job at a time; operator requests are never merged:
    a request made while another recompute of the same scope runs must still run afterwards,
    with the newer data (recomputing twice is harmless)."""
    scope = params.get("scope", DIRTY_SCOPE)
    if scope == DIRTY_SCOPE:
        return f"catalog_recompute:{DIRTY_SCOPE}"
    return f"catalog_recompute:{scope}:{params.get('id', '')}:{uuid.uuid4().hex[:8]}"


def _dirty_products_waiting() -> bool:
    return DirtyProduct.objects.exists()


RECOMPUTE_SCOPES = (DIRTY_SCOPE, "category", "supplier", "products")


def _recompute_params_check(params: dict) -> None:
    """A scope other than the dirty set says what to recompute, and why (for the events)."""
    scope = params.get("scope", DIRTY_SCOPE)
    if scope == DIRTY_SCOPE:
        return
    if scope in {"category", "supplier"} and "id" not in params:
        raise JobParamsError("id", _("required for the scope “%(scope)s”") % {"scope": scope})
    if scope == "products" and not params.get("product_ids"):
        raise JobParamsError("product_ids", _("required for the scope “products”"))
    if "reason" not in params:
        raise JobParamsError("reason", _("required for the scope “%(scope)s”") % {"scope": scope})


@job_kind(
    JobKind.CATALOG_RECOMPUTE,
    queue="catalog",
    key=_recompute_key,
    # The scheduled run (no parameters) sweeps the dirty set: products whose offers changed in
    # an ingest that died before its own catalog step (catalog.services.dirty).
    defaults=KindDefaults(max_concurrency=1, retry_attempts=3, retry_backoff_seconds=(30, 120, 600),
                          timeout_seconds=1800, stale_after_seconds=3600, schedule="every 30s"),
    has_work=_dirty_products_waiting,
    params={"scope": JobParam(str, choices=RECOMPUTE_SCOPES), "id": JobParam(int),
            "product_ids": JobParam(list), "reason": JobParam(str)},
    params_check=_recompute_params_check,
    retention_per_kind=True,  # an operator's recompute has a key of its own
    # The tick's housekeeping also samples the shop stream's backlog (the home page's chart).
    reconcile=stream_backlog_sample,
)  # fmt: skip
def catalog_recompute(ctx: JobContext) -> dict:
    scope = ctx.params.get("scope", DIRTY_SCOPE)
    if scope == DIRTY_SCOPE:
        pending = DirtyProduct.objects.count()
        drained = dirty_products_drain(
            on_chunk=lambda done: ctx.progress(
                _("%(count)s products recomputed") % {"count": done.products},
                done=done.products,
                total=max(pending, done.products),
                unit="products",
            ),
            should_stop=ctx.stop_requested,
        )
        return {
            "products": drained.products,
            "changed": len(drained.changed_product_ids),
            "stream_rows": drained.stream_rows,
            "eol_reverted": len(drained.eol_reverted_product_ids),
        }
    if scope == "category":
        ids = list(product_ids_in_category_tree(category_id=ctx.params["id"]))  # params_check: set
    elif scope == "supplier":
        ids = list(product_ids_offered_by_supplier(supplier_id=ctx.params["id"]))
    else:
        ids = list(ctx.params.get("product_ids") or [])
    result = active_offers_recompute(product_ids=ids, reason=ctx.params["reason"])
    return {
        "products": result.products,
        "changed": len(result.changed_product_ids),
        "stream_rows": result.stream_rows,
    }


@job_kind(
    JobKind.CURRENCY_RATES_REFRESH,
    queue="maintenance",
    # The ECB publishes around 16:00 CET on working days; twice a day catches a late file.
    defaults=KindDefaults(retry_attempts=3, retry_backoff_seconds=(300, 900, 3600), timeout_seconds=300,
                          stale_after_seconds=900, schedule="30 16,20 * * *"),
)  # fmt: skip
def currency_rates_refresh_job(ctx: JobContext) -> dict:
    result = currency_rates_refresh()
    return {
        "days": result.days,
        "rates_written": result.written,
        "currencies_changed": result.currencies_changed,
        "products_marked": result.products_marked,
    }
