"""The admin home page's "needs you" block: what waits for an operator's decision."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def needs_you(context: dict[str, Any]) -> dict[str, Any]:
    """Counts (and changelist links) of prices waiting for approval and offers on hold, for the
    models the user may view. Two small counts: both tables have partial indexes on these rows."""
    from catalog.models import PriceApproval
    from procurement.models import SupplierItem

    user = context["request"].user
    result: dict[str, Any] = {"items": [], "total": 0}
    if user.has_perm("catalog.view_priceapproval"):
        pending = PriceApproval.objects.filter(status=PriceApproval.Status.PENDING).count()
        url = reverse("admin:catalog_priceapproval_changelist") + "?status__exact=pending"
        result["items"].append({"key": "prices", "count": pending, "url": url})
        result["total"] += pending
    if user.has_perm("procurement.view_supplieritem"):
        held = dict(
            SupplierItem.objects.exclude(hold_reason="")
            .order_by()
            .values_list("hold_reason")
            .annotate(n=Count("id"))
            .values_list("hold_reason", "n")
        )
        changelist = reverse("admin:procurement_supplieritem_changelist")
        for reason in SupplierItem.HoldReason:
            if reason.value:
                count = held.get(reason.value, 0)
                result["items"].append(
                    {
                        "key": reason.value,
                        "count": count,
                        "url": f"{changelist}?hold_reason__exact={reason.value}",
                    }
                )
                result["total"] += count
    return result
