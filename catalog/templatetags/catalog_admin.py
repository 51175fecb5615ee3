"""The admin home page's "needs you" block: what waits for an operator's decision."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from catalog.models import PriceApproval
from catalog.selectors import offers_held_count_by_reason

register = template.Library()


@register.simple_tag(takes_context=True)
def needs_you(context: dict[str, Any]) -> dict[str, Any]:
    """Counts (and changelist links) of prices waiting for approval and offers on hold, for the
    models the user may view. Two small counts: both tables have partial indexes on these rows."""
    user = context["request"].user
    result: dict[str, Any] = {"items": [], "total": 0}
    if user.has_perm("catalog.view_priceapproval"):
        pending = PriceApproval.objects.filter(status=PriceApproval.Status.PENDING).count()
        url = reverse("admin:catalog_priceapproval_changelist") + "?status__exact=pending"
        result["items"].append({"key": "prices", "count": pending, "url": url})
        result["total"] += pending
    if user.has_perm("procurement.view_supplieritem"):
        changelist = reverse("admin:procurement_supplieritem_changelist")
        for reason, count in offers_held_count_by_reason().items():
            result["items"].append(
                {"key": reason, "count": count, "url": f"{changelist}?hold_reason__exact={reason}"}
            )
            result["total"] += count
    return result
