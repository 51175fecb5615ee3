"""Operators' bulk changes to products from the admin: enable, disable, set the margin, mark or
unmark end of life, send again to the shop. Each goes through the catalog's own services, so
the shop gets the change with a reason, and ``products_bulk_count`` tells the confirmation page
how many products would change and how many are already in that state, before anything moves.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from catalog.models import CatalogUpdateStream, Product
from catalog.services.changes import products_resync, products_set_eol_manually
from catalog.services.offers import Reason, active_offers_recompute, products_flags_set

# Above this many products a margin change re-prices in a job, not in the request.
MARGIN_RECOMPUTE_INLINE_MAX = 500

BULK_ACTIONS = ("enable", "disable", "set_margin", "mark_eol", "unmark_eol", "resync")


@dataclass(frozen=True)
class BulkCount:
    """What a bulk action would do to a selection: ``change`` products move, ``already`` are in
    that state (left alone)."""

    selected: int
    change: int
    already: int
    not_in_shop: int = 0  # resync: products the shop does not have yet (nothing to send)


def _already(action: str, margin: Decimal | None) -> Q:
    if action == "enable":
        return Q(is_enabled=True)
    if action == "disable":
        return Q(is_enabled=False)
    if action == "mark_eol":
        return Q(is_eol=True)
    if action == "unmark_eol":
        return Q(is_eol=False)
    if action == "set_margin":
        return Q(margin__isnull=True) if margin is None else Q(margin=margin)
    if action == "resync":
        # Already on its way: a pending update carries the product's latest state anyway.
        return Q(stream_rows__status=CatalogUpdateStream.Status.PENDING)
    raise ValueError(f"unknown bulk action {action!r}")


def products_bulk_count(
    *, product_ids: Collection[int], action: str, margin: Decimal | None = None
) -> BulkCount:
    """How many of the products the action changes and how many are already so (two or three
    queries)."""
    ids = list(product_ids)
    selected = Product.objects.filter(id__any_of=ids).count()
    already = Product.objects.filter(id__any_of=ids).filter(_already(action, margin)).distinct().count()
    if action == "resync":
        in_shop = Product.objects.filter(id__any_of=ids, id_ecommerce__isnull=False).count()
        return BulkCount(selected=selected, change=in_shop, already=already, not_in_shop=selected - in_shop)
    return BulkCount(selected=selected, change=selected - already, already=already)


def products_set_enabled(*, product_ids: Collection[int], is_enabled: bool) -> int:
    """Enable or disable products; the shop gets the change. Returns how many changed."""
    reason = Reason.PRODUCT_ENABLED if is_enabled else Reason.PRODUCT_DISABLED
    result = products_flags_set(product_ids=product_ids, is_enabled=is_enabled, reason=reason)
    return len(result.flagged_product_ids)


def products_set_margin(*, product_ids: Collection[int], margin: Decimal | None) -> int:
    """Give products their own margin (None: back to the category's or supplier's) and re-price
    them after commit: in the request for a page of products, in a recompute job for more."""
    ids = list(product_ids)
    with transaction.atomic():
        changing = Product.objects.filter(id__any_of=ids).exclude(_already("set_margin", margin))
        changed_ids = list(changing.values_list("id", flat=True))
        Product.objects.filter(id__any_of=changed_ids).update(margin=margin)
        if changed_ids:
            transaction.on_commit(lambda: _reprice(product_ids=changed_ids))
    return len(changed_ids)


def _reprice(*, product_ids: list[int]) -> None:
    if len(product_ids) <= MARGIN_RECOMPUTE_INLINE_MAX:
        active_offers_recompute(product_ids=product_ids, reason=Reason.MARGIN_CHANGED)
        return
    from genesys.jobs.enqueue import job_enqueue
    from genesys.models import JobKind

    job_enqueue(
        kind=JobKind.CATALOG_RECOMPUTE,
        params={"scope": "products", "product_ids": product_ids, "reason": str(Reason.MARGIN_CHANGED)},
        triggered_by="operator",
    )


def products_bulk_apply(*, product_ids: Collection[int], action: str, margin: Decimal | None = None) -> int:
    """Run one of ``BULK_ACTIONS``; returns how many products changed (or were queued)."""
    ids = list(product_ids)
    if action in ("enable", "disable"):
        return products_set_enabled(product_ids=ids, is_enabled=action == "enable")
    if action in ("mark_eol", "unmark_eol"):
        return products_set_eol_manually(product_ids=ids, is_eol=action == "mark_eol")
    if action == "set_margin":
        return products_set_margin(product_ids=ids, margin=margin)
    if action == "resync":
        return products_resync(product_ids=ids)
    raise ValueError(f"unknown bulk action {action!r}")
