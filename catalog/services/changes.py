"""Operator changes that move prices or shop state: the one place they are wired to recompute.

The admin (and any other caller) saves products and categories through these services (suppliers
and feeds: ``procurement.services.suppliers``, which uses the recompute hooks here). Each saves,
then — after the transaction commits — recomputes the affected products and queues shop updates
with a reason saying what the operator changed.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from catalog.models import Category, Product
from catalog.services.categories import category_refresh_paths
from catalog.services.offers import Reason, active_offers_recompute, products_flags_set
from genesys.jobs.enqueue import job_enqueue
from genesys.models import JobKind


def _after_commit_recompute(*, product_ids: list[int], reason: str) -> None:
    transaction.on_commit(lambda: active_offers_recompute(product_ids=product_ids, reason=reason))


def products_recompute_enqueue(*, scope: str, scope_id: int, reason: str) -> None:
    """A category or supplier may cover thousands of products: recompute in a job, after commit
    (``scope`` is "category" or "supplier", ``scope_id`` its id; see ``catalog.jobs``)."""
    job_enqueue(
        kind=JobKind.CATALOG_RECOMPUTE,
        params={"scope": scope, "id": scope_id, "reason": str(reason)},
        triggered_by="operator",
    )


@transaction.atomic
def product_save(*, product: Product, changed_fields: Collection[str]) -> Product:
    """Save a product edited by an operator; margin, enabled and EOL changes reach the shop.

    Flag changes go through ``products_flags_set`` in the same transaction: it captures the
    state the shop has before flipping the flag, so the change is carried to the shop with the
    flag (and an EOL event is written). Margin changes re-price after commit.
    """
    if product.pk is None:
        product.save()
        return product
    wanted = {name: getattr(product, name) for name in ("is_enabled", "is_eol") if name in changed_fields}
    if wanted:
        stored = Product.objects.filter(pk=product.pk).values(*wanted).get()
        for name, value in stored.items():
            setattr(product, name, value)
    product.save()
    if "is_eol" in wanted:
        products_flags_set(
            product_ids=[product.pk], is_eol=wanted["is_eol"], reason=Reason.MANUAL, event_note="manual"
        )
    if "is_enabled" in wanted:
        reason = Reason.PRODUCT_ENABLED if wanted["is_enabled"] else Reason.PRODUCT_DISABLED
        products_flags_set(product_ids=[product.pk], is_enabled=wanted["is_enabled"], reason=reason)
    for name, value in wanted.items():
        setattr(product, name, value)
    if "margin" in changed_fields:
        _after_commit_recompute(product_ids=[product.pk], reason=Reason.MARGIN_CHANGED)
    return product


@transaction.atomic
def category_save(*, category: Category, changed_fields: Collection[str]) -> Category:
    """Save a category; renames re-path the subtree, margin changes re-price its products."""
    is_new = category.pk is None
    category.save()
    if not is_new and {"name", "parent"} & set(changed_fields):
        category_refresh_paths(category=category)
    if not is_new and "margin" in changed_fields:
        products_recompute_enqueue(scope="category", scope_id=category.pk, reason=Reason.MARGIN_CHANGED)
    elif not is_new and {"price_change_limit", "min_margin"} & set(changed_fields):
        # Held prices the new limits allow go out; prices they no longer allow wait.
        products_recompute_enqueue(scope="category", scope_id=category.pk, reason=Reason.MANUAL)
    return category


def products_set_eol_manually(*, product_ids: Collection[int], is_eol: bool) -> int:
    """Operator's mark/unmark EOL; returns how many products changed."""
    result = products_flags_set(
        product_ids=product_ids, is_eol=is_eol, reason=Reason.MANUAL, event_note="manual"
    )
    return len(result.flagged_product_ids)


def products_resync(*, product_ids: Collection[int]) -> int:
    """Queue the full current state of these products for the shop, changed or not."""
    return active_offers_recompute(
        product_ids=product_ids, reason=Reason.RESYNC, force_stream=True
    ).stream_rows
