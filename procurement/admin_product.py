"""Procurement's part of the product page: every supplier's offer of the product.

The catalog's product admin names no app above the catalog; procurement adds its inline to it
(``catalog.admin.product_inline_add``) when the app is ready.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from catalog.admin import product_inline_add
from genesys.admin_tools import ReadOnlyInline
from procurement.models import SupplierItem


class SupplierOfferInline(ReadOnlyInline):
    model = SupplierItem
    verbose_name = _("offer from a supplier")
    verbose_name_plural = _("offers from every supplier")
    fields = ("supplier", "feed", "sku", "price", "stock", "gtin_raw", "partnumber_raw", "updated_at")
    readonly_fields = fields
    ordering = ["price"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupplierItem]:
        return super().get_queryset(request).select_related("supplier", "feed")


product_inline_add(SupplierOfferInline)
