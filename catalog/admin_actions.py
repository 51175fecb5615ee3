"""The product list's bulk actions, column choice and the product page's charts.

Kept apart from catalog/admin.py (``ProductAdmin`` mixes this in). Every bulk action first shows
a confirmation page with counts (how many products change, how many are already in that state)
and runs through catalog.services.bulk only once the operator confirms; each has its own
permission (genesys/roles.py).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from catalog.charts import product_history_series
from catalog.models import Product
from catalog.services.bulk import products_bulk_apply, products_bulk_count

# The columns that matter first (price, stock and enabled fit at 1400 px), then the others,
# shown when the operator asks for every column (a choice kept in the session).
PRODUCT_MAIN_COLUMNS = ["id", "name", "price_sent", "stock_sent", "is_enabled", "is_eol", "brand", "category"]
PRODUCT_MORE_COLUMNS = ["gtin", "partnumber", "id_ecommerce"]
COLUMNS_SESSION_KEY = "genesys:product_columns"

BULK_PERMISSIONS = {
    "enable": "catalog.enable_products",
    "disable": "catalog.enable_products",
    "set_margin": "catalog.set_product_margins",
    "mark_eol": "catalog.mark_products_eol",
    "unmark_eol": "catalog.mark_products_eol",
    "resync": "catalog.resync_products",
}


class BulkMarginForm(forms.Form):
    margin = forms.DecimalField(
        label=_("Margin"),
        required=False,
        min_value=Decimal("0"),
        max_digits=6,
        decimal_places=4,
        help_text=_("Fraction: 0.25 = 25 %. Empty: back to the category's, then the supplier's margin."),
    )


class ProductCockpitMixin:
    """Bulk actions with confirmation, the column choice and the history charts of ProductAdmin."""

    bulk_confirm_template = "admin/catalog/product_bulk_confirm.html"

    def has_enable_products_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(BULK_PERMISSIONS["enable"])  # type: ignore[union-attr]

    def has_set_product_margins_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(BULK_PERMISSIONS["set_margin"])  # type: ignore[union-attr]

    def has_mark_products_eol_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(BULK_PERMISSIONS["mark_eol"])  # type: ignore[union-attr]

    def has_resync_products_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(BULK_PERMISSIONS["resync"])  # type: ignore[union-attr]

    # --- columns -------------------------------------------------------------------------

    def get_list_display(self, request: HttpRequest) -> list[str | Callable[[Any], str | bool]]:
        if request.session.get(COLUMNS_SESSION_KEY) == "all":
            return [*PRODUCT_MAIN_COLUMNS, *PRODUCT_MORE_COLUMNS]
        return [*PRODUCT_MAIN_COLUMNS]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        choice = request.GET.get("_columns")
        if choice in ("all", "main"):
            request.session[COLUMNS_SESSION_KEY] = choice
            query = request.GET.copy()
            del query["_columns"]
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}" if query else request.path)
        extra = {
            "all_columns": request.session.get(COLUMNS_SESSION_KEY) == "all",
            # The toggle keeps the operator's filters, search and ordering.
            "columns_main_query": _query_with(request, _columns="main"),
            "columns_all_query": _query_with(request, _columns="all"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra)  # type: ignore[misc]

    # --- charts --------------------------------------------------------------------------

    @admin.display(description=_("price and stock over time"))
    def history_chart(self, obj: Product) -> str:
        if obj.pk is None:
            return "—"
        return render_to_string(
            "admin/catalog/product_history.html", product_history_series(product_id=obj.pk)
        )

    # --- bulk actions --------------------------------------------------------------------

    def _bulk(
        self, request: HttpRequest, queryset: QuerySet[Product], *, action: str, title: str, verb: str
    ) -> HttpResponse | None:
        ids = list(queryset.values_list("id", flat=True))
        stage = "confirm" if "confirm" in request.POST else "review" if "review" in request.POST else "start"
        form = None
        if action == "set_margin":  # the margin is asked for first; the counts depend on it
            form = BulkMarginForm(request.POST if stage != "start" else None)
            if stage != "start" and not form.is_valid():
                stage = "start"
        margin = form.cleaned_data["margin"] if form is not None and stage != "start" else None
        if stage == "confirm":
            count = products_bulk_apply(product_ids=ids, action=action, margin=margin)
            self.message_user(  # type: ignore[attr-defined]
                request,
                ngettext("%(verb)s: %(count)d product.", "%(verb)s: %(count)d products.", count)
                % {"verb": verb, "count": count},
                messages.SUCCESS if count else messages.WARNING,
            )
            return None
        asking = form is not None and stage == "start"
        counts = None if asking else products_bulk_count(product_ids=ids, action=action, margin=margin)
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": title,
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "action": action,
            "verb": verb,
            "counts": counts,
            "form": form,
            "asking": asking,
            "margin": margin,
            "ids": ids,
            "sample": queryset.order_by("-id")[:20],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, self.bulk_confirm_template, context)

    @admin.action(description=_("Enable the selected products"), permissions=["enable_products"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        return self._bulk(
            request, queryset, action="enable", title=gettext("Enable products"), verb=gettext("Enabled")
        )

    @admin.action(description=_("Disable the selected products"), permissions=["enable_products"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        return self._bulk(
            request, queryset, action="disable", title=gettext("Disable products"), verb=gettext("Disabled")
        )

    @admin.action(
        description=_("Set the margin of the selected products…"), permissions=["set_product_margins"]
    )
    def set_margin(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        return self._bulk(
            request,
            queryset,
            action="set_margin",
            title=gettext("Set the margin"),
            verb=gettext("Margin set"),
        )

    @admin.action(description=_("Mark as end of life"), permissions=["mark_products_eol"])
    def mark_eol(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        return self._bulk(
            request,
            queryset,
            action="mark_eol",
            title=gettext("Mark as end of life"),
            verb=gettext("Marked end of life"),
        )

    @admin.action(description=_("Bring back from end of life"), permissions=["mark_products_eol"])
    def unmark_eol(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        return self._bulk(
            request,
            queryset,
            action="unmark_eol",
            title=gettext("Bring back from end of life"),
            verb=gettext("No longer end of life"),
        )

    @admin.action(description=_("Send the current state to the shop again"), permissions=["resync_products"])
    def resync(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        return self._bulk(
            request,
            queryset,
            action="resync",
            title=gettext("Send to the shop again"),
            verb=gettext("Shop updates queued"),
        )


def _query_with(request: HttpRequest, **values: str) -> str:
    """The request's query string with ``values`` set (for links that keep the list's filters)."""
    query = request.GET.copy()
    for name, value in values.items():
        query[name] = value
    return query.urlencode()
