"""Operator decisions on held offers: identity conflicts (split, merge anyway, ignore) and price
outliers (release). Each decision is remembered, so the next ingest does not ask again, and the
products it touches are re-elected after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Brand, Product
from catalog.normalize import name_normalize, partnumber_normalize
from catalog.services.dirty import products_mark_dirty
from catalog.services.offers import Reason, active_offers_recompute
from procurement.models import IdentityConflict, IdentityRule, SupplierItem

Hold = SupplierItem.HoldReason
Status = IdentityConflict.Status


class IdentityDecisionRefused(Exception):
    """The decision cannot be applied to this conflict; the message says why."""


def _recompute_after_commit(product_ids: Iterable[int]) -> None:
    """Mark the products dirty with the decision (the periodic sweep applies it even if this
    process dies after the commit), and re-elect them right after the commit."""
    ids = sorted(set(product_ids))
    if ids:
        products_mark_dirty(product_ids=ids)
        transaction.on_commit(lambda: active_offers_recompute(product_ids=ids, reason=Reason.MANUAL))


def _busy() -> IdentityDecisionRefused:
    return IdentityDecisionRefused(
        _("An ingest of this feed is writing these offers right now; try again in a moment.")
    )


def _conflict_lock(conflict_id: int) -> tuple[IdentityConflict, list[SupplierItem]]:
    """Lock the group's offers, then the conflict, without ever waiting: an ingest writing them
    holds their locks, and waiting here could deadlock with it (so the decision is refused)."""
    feed_id, product_id = IdentityConflict.objects.values_list("feed_id", "product_id").get(pk=conflict_id)
    try:
        offers = list(
            SupplierItem.objects.select_for_update(nowait=True)
            .filter(feed_id=feed_id, product_id=product_id)
            .order_by("id")
        )
        conflict = (
            IdentityConflict.objects.select_for_update(nowait=True, of=("self",))
            .select_related("feed", "product")
            .get(pk=conflict_id)
        )
    except OperationalError:
        raise _busy() from None
    if conflict.status not in (Status.OPEN, Status.IGNORED):
        raise IdentityDecisionRefused(
            _("This conflict is already resolved (%(status)s).") % {"status": conflict.get_status_display()}
        )
    return conflict, offers


def _resolved(conflict: IdentityConflict, *, status: str, user: str) -> None:
    conflict.status, conflict.resolved_at, conflict.resolved_by = status, timezone.now(), user[:150]
    conflict.save(update_fields=["status", "resolved_at", "resolved_by"])


@transaction.atomic
def identity_conflict_merge(*, conflict_id: int, user: str) -> IdentityConflict:
    """Merge anyway: the SKUs are one product; their offers compete again. Remembered for exactly
    these SKUs: a new SKU joining the group is a new conflict."""
    conflict, offers = _conflict_lock(conflict_id)
    SupplierItem.objects.filter(
        id__in=[offer.pk for offer in offers], hold_reason=Hold.IDENTITY_CONFLICT
    ).update(hold_reason=Hold.NONE, hold_note="", held_at=None)
    _resolved(conflict, status=Status.ACCEPTED, user=user)
    _recompute_after_commit([conflict.product_id])
    return conflict


@transaction.atomic
def identity_conflict_ignore(*, conflict_id: int, user: str) -> IdentityConflict:
    """Dismiss from the to-do list; the offers stay held (never elected)."""
    conflict, _offers = _conflict_lock(conflict_id)
    if conflict.status == Status.IGNORED:
        return conflict
    conflict.status, conflict.resolved_at, conflict.resolved_by = Status.IGNORED, timezone.now(), user[:150]
    conflict.save(update_fields=["status", "resolved_at", "resolved_by"])
    return conflict


def _split_key(conflict: IdentityConflict, offers: list[SupplierItem]) -> tuple[int, str, str]:
    """The brand and part number the split products share: the product's, else the rows'."""
    product = conflict.product
    if product.brand_id is not None and product.partnumber_normalized:
        return product.brand_id, product.partnumber_normalized, product.partnumber
    for offer in offers:
        pn = partnumber_normalize(offer.partnumber_raw)
        brand = Brand.objects.filter(normalized_name=name_normalize(offer.brand_raw)).first()
        if offer.brand_raw and pn and brand is not None:
            return brand.pk, pn, offer.partnumber_raw[:100]
    raise IdentityDecisionRefused(
        _(
            "These rows give no brand and part number, which the split products need as their "
            "identity; fix the feed or its mapper profile instead."
        )
    )


@transaction.atomic
def identity_conflict_split(*, conflict_id: int, user: str) -> list[Product]:
    """Split: each SKU of the group becomes a product of its own, now and in every later ingest.

    A rule for the supplier and the brand + part number (and the GTIN the group shared) makes
    the SKU part of the identity; the offers move to their own products and are released.
    """
    conflict, offers = _conflict_lock(conflict_id)
    if not offers:
        raise IdentityDecisionRefused(_("The feed no longer has offers for this product."))
    brand_id, pn, partnumber = _split_key(conflict, offers)
    supplier_id = conflict.feed.supplier_id
    IdentityRule.objects.update_or_create(
        supplier_id=supplier_id,
        brand_id=brand_id,
        partnumber_normalized=pn,
        defaults={
            "partnumber": partnumber,
            "gtin": conflict.product.gtin or "",
            "conflict": conflict,
            "created_by": user[:150],
        },
    )
    original = conflict.product
    products = []
    for offer in offers:
        product, _created = Product.objects.get_or_create(
            gtin=None,
            brand_id=brand_id,
            partnumber_normalized=pn,
            variant=f"{supplier_id}:{offer.sku}",
            defaults={
                "partnumber": partnumber,
                "name": offer.name_raw or original.name,
                "category_id": original.category_id,
                "image_url": original.image_url if len(offers) == 1 else "",
            },
        )
        offer.product = product
        if offer.hold_reason == Hold.IDENTITY_CONFLICT:
            offer.hold_reason, offer.hold_note, offer.held_at = Hold.NONE, "", None
        offer.save(update_fields=["product", "hold_reason", "hold_note", "held_at"])
        products.append(product)
    _resolved(conflict, status=Status.SPLIT, user=user)
    _recompute_after_commit([original.pk, *(p.pk for p in products)])
    return products


@transaction.atomic
def offers_release_outliers(*, item_ids: Iterable[int], user: str) -> int:
    """Release price-outlier holds; the released cost is remembered, so the same price is not held
    again (a material change is checked again). Returns how many offers were released."""
    try:
        offers = list(
            SupplierItem.objects.select_for_update(nowait=True)
            .filter(id__in=list(item_ids), hold_reason=Hold.PRICE_OUTLIER)
            .order_by("id")
            .values_list("id", "product_id", "price")
        )
    except OperationalError:
        raise _busy() from None
    for item_id, _product_id, price in offers:
        SupplierItem.objects.filter(id=item_id).update(
            hold_reason=Hold.NONE,
            hold_note=_("released by %(user)s") % {"user": user[:150]},
            held_at=None,
            hold_released_price=price,
        )
    _recompute_after_commit(product_id for _id, product_id, _price in offers)
    return len(offers)
