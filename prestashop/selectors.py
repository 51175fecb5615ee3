"""Reads of the shop side: mapping look-ups and the auto-import candidates. Nothing here writes."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from catalog.models import Brand, Product
from catalog.normalize import name_normalize
from prestashop.models import PrestashopCategory, PrestashopManufacturer


def shop_category_label(category: PrestashopCategory) -> str:
    """How operators see a shop category: its path, id and whether it can still be used."""
    label = f"{category.full_path or category.name} (#{category.pk})"
    if category.removed_at is not None:
        return label + " — " + _("gone from the shop")
    if not category.active:
        return label + " — " + _("inactive in the shop")
    return label


def shop_categories_search(*, term: str = "") -> QuerySet[PrestashopCategory]:
    """Categories products can go to, matching every word of ``term`` anywhere in their path.

    Case and accents do not matter ("portateis inform" finds "Informática > Portáteis"); a number
    finds the category with that id too. Categories gone from the shop come last.
    """
    queryset = PrestashopCategory.objects.filter(is_root=False)
    words = name_normalize(term).split()
    if len(words) == 1 and words[0].lstrip("#").isdigit():
        by_id = queryset.filter(pk=int(words[0].lstrip("#")))
        by_path = queryset.filter(search_path__contains=words[0])
        return (by_id | by_path).order_by("removed_at", "-active", "full_path")
    for word in words:
        queryset = queryset.filter(search_path__contains=word)
    return queryset.order_by("removed_at", "-active", "full_path")


def brand_manufacturer_id() -> Subquery:
    """For a query over brands: the id of the shop manufacturer the brand matches, or NULL.

    Brands match manufacturers by normalised name. Among several (shops do have twins), an active
    one wins, then the lowest id; manufacturers gone from the shop never match.
    """
    return Subquery(
        PrestashopManufacturer.objects.filter(
            normalized_name=OuterRef("normalized_name"), removed_at__isnull=True
        )
        .order_by("-active", "id")
        .values("id")[:1]
    )


def brands_manufacturer_ids(*, brand_ids: Collection[int]) -> dict[int, int]:
    """Brand id -> matched shop manufacturer id, for the brands that match one."""
    rows = (
        Brand.objects.filter(id__any_of=list(brand_ids))
        .annotate(manufacturer_id=brand_manufacturer_id())
        .values_list("id", "manufacturer_id")
    )
    return {brand_id: manufacturer_id for brand_id, manufacturer_id in rows if manufacturer_id is not None}


def products_auto_import_candidates() -> QuerySet[Product]:
    """Products auto-import creates in the shop, in one query.

    Not in the shop yet (no ``id_ecommerce``), in a category with auto-import on (which implies
    a mapped shop category), enabled, not end-of-life, and with an active offer that has a price
    and stock.
    """
    return (
        Product.objects.filter(
            id_ecommerce__isnull=True,
            is_enabled=True,
            is_eol=False,
            category__auto_import=True,
            category__id_ps_category__isnull=False,
            active_offer__unit_price_sent__gt=0,
            active_offer__stock_sent__gt=0,
        )
        .select_related("brand", "category", "active_offer")
        .order_by("id")
    )


def shop_categories_by_id(*, ids: Collection[int]) -> dict[int, PrestashopCategory]:
    return {c.pk: c for c in PrestashopCategory.objects.filter(id__any_of=list(ids))}
