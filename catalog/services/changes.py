"""Operator changes that move prices or shop state: the one place they are wired to recompute.

The admin (and any other caller) saves products, categories and suppliers through these
services. Each saves, then — after the transaction commits — recomputes the affected products
and queues shop updates with a reason saying what the operator changed.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from catalog.models import Category, Product
from catalog.selectors import product_ids_in_category_tree, product_ids_offered_by_supplier
from catalog.services.offers import Reason, active_offers_recompute, products_flags_set
from procurement.models import Supplier


def _after_commit_recompute(*, product_ids: list[int], reason: str) -> None:
    transaction.on_commit(lambda: active_offers_recompute(product_ids=product_ids, reason=reason))


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
    from catalog.services.categories import category_refresh_paths

    is_new = category.pk is None
    category.save()
    if not is_new and {"name", "parent"} & set(changed_fields):
        category_refresh_paths(category=category)
    if not is_new and "margin" in changed_fields:
        ids = list(product_ids_in_category_tree(category_id=category.pk))
        _after_commit_recompute(product_ids=ids, reason=Reason.MARGIN_CHANGED)
    return category


@transaction.atomic
def supplier_save(*, supplier: Supplier, changed_fields: Collection[str]) -> Supplier:
    """Save a supplier; its margin and active flag change which offers win and at what price."""
    is_new = supplier.pk is None
    supplier.save()
    if is_new:
        return supplier
    if "is_active" in changed_fields:
        reason = Reason.SUPPLIER_ENABLED if supplier.is_active else Reason.SUPPLIER_DISABLED
    elif "margin" in changed_fields:
        reason = Reason.MARGIN_CHANGED
    else:
        return supplier
    ids = list(product_ids_offered_by_supplier(supplier_id=supplier.pk))
    _after_commit_recompute(product_ids=ids, reason=reason)
    return supplier


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
