"""Catalog job kinds (thin: load, call a service, record)."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _

from catalog.models import DirtyProduct
from catalog.selectors import product_ids_in_category_tree, product_ids_offered_by_supplier
from catalog.services.dirty import dirty_products_drain
from catalog.services.eol import products_mark_eol
from catalog.services.offers import active_offers_recompute
from catalog.services.rates import currency_rates_refresh
from genesys.jobs.context import JobContext
from genesys.jobs.registry import KindDefaults, job_kind
from genesys.models import JobKind

DIRTY_SCOPE = "dirty"


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


@job_kind(
    JobKind.CATALOG_RECOMPUTE,
    queue="catalog",
    key=_recompute_key,
    # The scheduled run (no parameters) sweeps the dirty set: products whose offers changed in
    # an ingest that died before its own catalog step (catalog.services.dirty).
    defaults=KindDefaults(max_concurrency=1, retry_attempts=3, retry_backoff_seconds=(30, 120, 600),
                          timeout_seconds=1800, stale_after_seconds=3600, schedule="every 30s"),
    has_work=_dirty_products_waiting,
)  # fmt: skip
def catalog_recompute(ctx: JobContext) -> dict:
    scope, scope_id = ctx.params.get("scope", DIRTY_SCOPE), ctx.params.get("id")
    if scope == DIRTY_SCOPE:
        drained = dirty_products_drain(
            on_chunk=lambda done: ctx.progress(_("%(count)s products recomputed") % {"count": done.products})
        )
        return {
            "products": drained.products,
            "changed": len(drained.changed_product_ids),
            "stream_rows": drained.stream_rows,
            "eol_reverted": len(drained.eol_reverted_product_ids),
        }
    if scope == "category":
        ids = list(product_ids_in_category_tree(category_id=scope_id))
    elif scope == "supplier":
        ids = list(product_ids_offered_by_supplier(supplier_id=scope_id))
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
