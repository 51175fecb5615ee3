"""The shop side's part of the admin home page (genesys.home): what is not mapped to the shop."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from catalog.models import Brand, Category, Product
from genesys.home import NeedItem, home_needs
from prestashop.selectors import brand_manufacturer_id


@home_needs("prestashop")
def shop_mapping_needs(user: Any) -> list[NeedItem]:
    """Categories with products but no shop category, and brands with products that match no
    shop manufacturer. Two queries."""
    items: list[NeedItem] = []
    if user.has_perm("catalog.view_category"):
        unmapped = (
            Category.objects.filter(id_ps_category__isnull=True)
            .filter(Exists(Product.objects.filter(category_id=OuterRef("pk"))))
            .count()
        )
        url = reverse("admin:catalog_category_changelist") + "?shop_mapping=unmapped_with_products"
        items.append(
            NeedItem("unmapped_categories", _("Categories with products, not mapped"), unmapped, url, 40)
        )
    if user.has_perm("catalog.view_brand"):
        unmatched = (
            Brand.objects.filter(Exists(Product.objects.filter(brand_id=OuterRef("pk"))))
            .annotate(_manufacturer_id=brand_manufacturer_id())
            .filter(_manufacturer_id__isnull=True)
            .count()
        )
        url = reverse("admin:catalog_brand_changelist") + "?shop_match=no"
        items.append(
            NeedItem("unmatched_brands", _("Brands with products, not in the shop"), unmatched, url, 50)
        )
    return items
