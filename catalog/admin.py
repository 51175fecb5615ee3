from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict
from weakref import WeakKeyDictionary

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import InlineModelAdmin
from django.db import connection, models
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from catalog.admin_actions import ProductCockpitMixin
from catalog.models import (
    Brand,
    CatalogUpdateStream,
    Category,
    CurrencyRate,
    DirtyProduct,
    PriceApproval,
    PriceApprovalNotice,
    Product,
    ProductActiveOffer,
    ProductMeta,
    ProductSupplierEvent,
)
from catalog.selectors import Offer, offer_landed_cost_explain, product_election_explain, source_facts_get
from catalog.services.approvals import (
    APPROVE_PERMISSION,
    DecisionResult,
    price_approvals_approve,
    price_approvals_approve_run,
    price_approvals_reject,
)
from catalog.services.changes import category_save, product_save
from catalog.services.offers import Reason, active_offers_recompute
from catalog.services.rates import currency_rate_delete, currency_rate_save
from catalog.services.stream_leases import stream_rows_retry
from genesys.admin_tools import ReadOnlyAdmin, pretty_json, status_badge

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, WithAnnotations

    from catalog.selectors import SourceFacts


class _ProductCount(TypedDict):
    _product_count: int


RECENT_EVENTS_SHOWN = 50


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "normalized_name", "product_count", "updated_at"]
    search_fields = ["name", "normalized_name"]
    readonly_fields = ["normalized_name", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Brand]:
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    @admin.display(description=_("products"), ordering="_product_count")
    def product_count(self, obj: WithAnnotations[Brand, _ProductCount]) -> int:
        return obj._product_count


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "full_path",
        "id_ps_category",
        "ps_category_name",
        "auto_import",
        "margin",
        "price_change_limit",
        "min_margin",
        "product_count",
    ]
    list_filter = ["auto_import", ("id_ps_category", admin.EmptyFieldListFilter)]
    search_fields = ["full_path", "ps_category_name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["full_path", "normalized_name", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        category_save(category=obj, changed_fields=form.changed_data if change else ())

    @admin.display(description=_("products"), ordering="_product_count")
    def product_count(self, obj: WithAnnotations[Category, _ProductCount]) -> int:
        return obj._product_count


class ActiveOfferInline(admin.StackedInline):
    model = ProductActiveOffer
    can_delete = False
    fields = (
        "supplier",
        "supplier_item",
        "unit_cost",
        "margin_applied",
        "unit_price_sent",
        "stock_sent",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProductMetaInline(admin.TabularInline):
    model = ProductMeta
    extra = 0
    ordering = ["key"]
    fields = ["key", "value"]


@admin.register(Product)
class ProductAdmin(ProductCockpitMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "brand",
        "gtin",
        "partnumber",
        "category",
        "price_sent",
        "stock_sent",
        "is_enabled",
        "is_eol",
        "id_ecommerce",
    ]
    list_display_links = ["id", "name"]
    ordering = ["-id"]
    list_filter = ["is_enabled", "is_eol", ("id_ecommerce", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["brand", "category", "active_offer"]
    search_fields = ["=id", "name", "gtin", "partnumber", "partnumber_normalized", "=id_ecommerce"]
    autocomplete_fields = ["brand", "category"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [
        "partnumber_normalized",
        "shop_price",
        "price_waiting",
        "created_at",
        "updated_at",
        "election",
        "history_chart",
        "recent_events",
    ]
    # enable … resync: catalog/admin_actions.py (confirmation pages with counts)
    actions = ["enable", "disable", "set_margin", "mark_eol", "unmark_eol", "resync", "recompute_now"]

    def has_run_jobs_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("genesys.run_jobs")  # type: ignore[union-attr]

    # Other apps add their own inlines with product_inline_add (procurement: every supplier's offer).
    inlines: ClassVar[list[type[InlineModelAdmin]]] = [ActiveOfferInline, ProductMetaInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "brand", "partnumber", "partnumber_normalized", "gtin", "category"]}),
        (
            _("Selling"),
            {"fields": ["margin", "is_enabled", "is_eol", "id_ecommerce", "shop_price", "price_waiting"]},
        ),
        (_("Offer election"), {"fields": ["election"]}),
        (_("Content"), {"fields": ["description", "image_url", "weight"], "classes": ["collapse"]}),
        (_("History"), {"fields": ["history_chart", "recent_events", "created_at", "updated_at"]}),
    ]

    @admin.display(description=_("price waiting for approval"))
    def price_waiting(self, obj: Product) -> str:
        pending = PriceApproval.objects.filter(product=obj, status=PriceApproval.Status.PENDING).first()
        if pending is None:
            return "—"
        url = reverse("admin:catalog_priceapproval_changelist") + f"?product__id__exact={obj.pk}"
        return format_html('<a href="{}">{} → {}</a>', url, pending.old_price or "—", pending.new_price)

    @admin.display(description=_("price sent"))
    def price_sent(self, obj: Product) -> Any:
        offer = getattr(obj, "active_offer", None)
        return offer.unit_price_sent if offer else None

    @admin.display(description=_("stock sent"))
    def stock_sent(self, obj: Product) -> Any:
        offer = getattr(obj, "active_offer", None)
        return offer.stock_sent if offer else None

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        product_save(product=obj, changed_fields=form.changed_data if change else ())

    @admin.display(description=_("why this offer"))
    def election(self, obj: Product) -> str:
        if obj.pk is None:
            return "—"
        return render_to_string(
            "admin/catalog/product_election.html", {"offers": product_election_explain(product=obj)}
        )

    @admin.action(description=_("Recompute offers and prices now"), permissions=["run_jobs"])
    def recompute_now(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        result = active_offers_recompute(
            product_ids=queryset.values_list("id", flat=True), reason=Reason.MANUAL
        )
        self.message_user(
            request,
            _("%(products)d products recomputed; %(changed)d changed; %(rows)d shop updates queued.")
            % {
                "products": result.products,
                "changed": len(result.changed_product_ids),
                "rows": result.stream_rows,
            },
        )

    @admin.display(description=_("price and stock history"))
    def recent_events(self, obj: Product) -> str:
        if obj.pk is None:
            return "—"
        events = (
            ProductSupplierEvent.objects.filter(product=obj)
            .select_related("supplier")
            .order_by("-created_at", "-id")[:RECENT_EVENTS_SHOWN]
        )
        return render_to_string("admin/catalog/product_events.html", {"events": events})


def product_inline_add(
    inline: type[InlineModelAdmin], *, after: type[InlineModelAdmin] = ActiveOfferInline
) -> None:
    """Show another app's data about a product on its page (procurement adds every supplier's
    offer), so this admin names no app above the catalog. Adding the same inline twice is a no-op."""
    if inline not in ProductAdmin.inlines:
        ProductAdmin.inlines.insert(ProductAdmin.inlines.index(after) + 1, inline)


@admin.register(ProductMeta)
class ProductMetaAdmin(admin.ModelAdmin):
    list_display = ["product", "key", "value", "updated_at"]
    ordering = ["-id"]
    search_fields = ["key", "value", "product__name"]
    autocomplete_fields = ["product"]
    list_select_related = ["product"]
    show_full_result_count = False


@admin.register(ProductSupplierEvent)
class ProductSupplierEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "product",
        "reason",
        "supplier",
        "old_price",
        "new_price",
        "old_stock",
        "new_stock",
        "run",
    ]
    ordering = ["-created_at", "-id"]
    list_filter = ["reason", "supplier"]
    list_select_related = ["product", "supplier", "run__feed"]
    search_fields = ["=product__id", "product__name", "product__gtin"]
    date_hierarchy = "created_at"


@admin.register(ProductActiveOffer)
class ProductActiveOfferAdmin(ReadOnlyAdmin):
    list_display = [
        "product",
        "supplier",
        "unit_cost",
        "margin_applied",
        "unit_price_sent",
        "stock_sent",
        "updated_at",
    ]
    list_filter = ["supplier"]
    list_select_related = ["product", "supplier"]
    search_fields = ["=product__id", "product__name", "product__gtin"]


@admin.register(DirtyProduct)
class DirtyProductAdmin(ReadOnlyAdmin):
    """Products an ingest changed and the catalog has not recomputed yet: an empty list is the
    normal state; rows that stay here mean the sweep is not running (see docs/workers.md)."""

    list_display = ["product", "marked_at", "run_id", "version"]
    list_select_related = ["product"]
    search_fields = ["=product__id", "product__name", "product__gtin"]


class StreamReasonFilter(admin.SimpleListFilter):
    title = _("reason")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Sequence[tuple[str, StrOrPromise]]:
        return CatalogUpdateStream.Reason.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if connection.vendor == "postgresql":
            return queryset.filter(reasons__contains=[value])
        return queryset.filter(reasons__icontains=f'"{value}"')  # SQLite stores JSON as text


@admin.register(CatalogUpdateStream)
class CatalogUpdateStreamAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "product",
        "shop",
        "status_label",
        "priority",
        "reasons_label",
        "attempts",
        "next_attempt_at",
        "error_short",
        "updated_at",
    ]
    list_filter = ["status", "priority", StreamReasonFilter, "shop", "event_type"]
    ordering = ["-id"]
    list_select_related = ["product"]
    search_fields = ["=product__id", "product__name", "last_error"]
    date_hierarchy = "created_at"
    readonly_fields = ["payload_pretty"]
    exclude = ["payload"]
    actions = ["retry_failed"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("catalog.retry_catalogupdatestream")  # type: ignore[union-attr]

    @admin.action(description=_("Retry the selected failed updates"), permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[CatalogUpdateStream]) -> None:
        result = stream_rows_retry(row_ids=list(queryset.values_list("id", flat=True)))
        back = result.requeued + result.merged
        self.message_user(
            request,
            ngettext(
                "%(count)d failed update back in the queue, with the product's current state.",
                "%(count)d failed updates back in the queue, with the products' current state.",
                back,
            )
            % {"count": back},
            messages.SUCCESS if back else messages.WARNING,
        )
        if result.skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected update was not failed and was left alone.",
                    "%(count)d selected updates were not failed and were left alone.",
                    result.skipped,
                )
                % {"count": result.skipped},
                messages.WARNING,
            )

    @admin.display(description=_("last error"))
    def error_short(self, obj: CatalogUpdateStream) -> str:
        return obj.last_error[:120] + ("…" if len(obj.last_error) > 120 else "")

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: CatalogUpdateStream) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=_("reasons"))
    def reasons_label(self, obj: CatalogUpdateStream) -> str:
        return ", ".join(obj.reasons or [])

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj: CatalogUpdateStream) -> str:
        return pretty_json(obj.payload)


class RejectPricesForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept on the offer, which stays on hold until an operator releases it."),
    )


class PendingRunFilter(admin.SimpleListFilter):
    """Only the runs that have prices waiting (a list of every run would be endless)."""

    title = _("feed run")
    parameter_name = "run"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        runs = (
            PriceApproval.objects.filter(status=PriceApproval.Status.PENDING, run__isnull=False)
            .values_list("run_id", "run__feed__name")
            .order_by("-run_id")
            .distinct()[:50]
        )
        return [(str(run_id), f"#{run_id} {feed}") for run_id, feed in runs]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(run_id=self.value()) if self.value() else queryset


def landed_cost_explained(request: HttpRequest, item: Offer | None, weight: Any) -> str:
    """ "325.71 € = 7,990 CZK x 0.03957 + 9.50 € shipping" for one offer; the supplier, feed and
    rate facts are read once per request."""
    if item is None:
        return "—"
    sources = _sources_of_request.get(request)
    if sources is None:
        sources = _sources_of_request[request] = source_facts_get()
    return offer_landed_cost_explain(item=item, weight=weight, sources=sources)


# The supplier, feed and rate facts of each request being answered (gone with the request).
_sources_of_request: WeakKeyDictionary[HttpRequest, SourceFacts] = WeakKeyDictionary()


@admin.register(PriceApproval)
class PriceApprovalAdmin(ReadOnlyAdmin):
    """The approval queue: prices the price-jump guard kept from the shop (docs/catalog.md)."""

    list_display = [
        "product",
        "status_label",
        "old_price",
        "new_price",
        "change_label",
        "reasons_label",
        "feed_cost",
        "landed",
        "offer",
        "supplier",
        "run_link",
        "created_at",
    ]
    list_filter = ["status", PendingRunFilter, "supplier"]
    list_select_related = ["product", "supplier", "supplier_item__feed", "run__feed"]
    search_fields = ["=product__id", "product__name", "product__gtin", "supplier_item__sku"]
    ordering = ["-created_at", "-id"]
    date_hierarchy = "created_at"
    actions = ["approve", "reject", "approve_runs"]

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(APPROVE_PERMISSION)

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: PriceApproval) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=_("change"))
    def change_label(self, obj: PriceApproval) -> str:
        change = obj.change
        if change is None:
            return gettext("first price")
        return f"{change * 100:+.1f} %"

    @admin.display(description=_("why"))
    def reasons_label(self, obj: PriceApproval) -> str:
        labels = dict(PriceApproval.Reason.choices)
        return "; ".join(str(labels.get(code, code)) for code in obj.reasons)

    @admin.display(description=_("cost as the feed gave it"))
    def feed_cost(self, obj: PriceApproval) -> str:
        item = obj.supplier_item
        if item is None:
            return "—"
        return f"{item.price} {item.feed.price_currency}"

    @admin.display(description=_("landed cost"), ordering="unit_cost")
    def landed(self, obj: PriceApproval) -> str:
        """Replaced per request by ``get_list_display`` (declared for the admin's checks)."""
        return str(obj.unit_cost)

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        """The landed-cost column needs the request (its facts are read once per request)."""

        @admin.display(description=_("landed cost"), ordering="unit_cost")
        def landed(obj: PriceApproval) -> str:
            return format_html(
                "{}<br><small>{}</small>",
                obj.unit_cost,
                landed_cost_explained(request, obj.supplier_item, obj.product.weight),
            )

        return [landed if name == "landed" else name for name in self.list_display]

    @admin.display(description=_("offer"))
    def offer(self, obj: PriceApproval) -> str:
        item = obj.supplier_item  # None without a query when there is no supplier_item_id
        if item is None:
            return "—"
        url = reverse("admin:procurement_supplieritem_change", args=[item.pk])
        return format_html('<a href="{}">{}</a>', url, item.sku)

    @admin.display(description=_("feed run"), ordering="run")
    def run_link(self, obj: PriceApproval) -> str:
        if obj.run_id is None:
            return "—"
        url = reverse("admin:procurement_feedrun_change", args=[obj.run_id])
        return format_html('<a href="{}">#{}</a>', url, obj.run_id)

    def _decision_message(self, request: HttpRequest, result: DecisionResult, done: str) -> None:
        self.message_user(request, done, messages.SUCCESS if result.decided else messages.WARNING)
        if result.skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected price was no longer waiting and was left alone.",
                    "%(count)d selected prices were no longer waiting and were left alone.",
                    result.skipped,
                )
                % {"count": result.skipped},
                messages.WARNING,
            )

    @admin.action(
        description=_("Approve the selected prices and send them to the shop"), permissions=["approve"]
    )
    def approve(self, request: HttpRequest, queryset: QuerySet[PriceApproval]) -> None:
        result = price_approvals_approve(
            approval_ids=list(queryset.values_list("id", flat=True)), user=request.user.get_username()
        )
        self._approved_message(request, result)

    def _approved_message(self, request: HttpRequest, result: DecisionResult) -> None:
        done = ngettext(
            "%(count)d price approved; %(sent)d queued for the shop.",
            "%(count)d prices approved; %(sent)d queued for the shop.",
            result.decided,
        ) % {"count": result.decided, "sent": result.sent}
        self._decision_message(request, result, done)
        if result.decided > result.sent:
            self.message_user(
                request,
                _(
                    "Some offers changed since: their approved price no longer applies, and the new "
                    "one was checked again (it may be waiting for approval)."
                ),
                messages.WARNING,
            )

    @admin.action(
        description=_("Approve every waiting price of the selected rows' feed runs"), permissions=["approve"]
    )
    def approve_runs(self, request: HttpRequest, queryset: QuerySet[PriceApproval]) -> None:
        run_ids = sorted(set(queryset.exclude(run__isnull=True).values_list("run_id", flat=True)))
        if not run_ids:
            self.message_user(
                request, _("None of the selected prices came from a feed run."), messages.WARNING
            )
            return
        total = DecisionResult()
        for run_id in run_ids:
            result = price_approvals_approve_run(run_id=run_id, user=request.user.get_username())
            total.decided += result.decided
            total.sent += result.sent
        self._approved_message(request, total)

    @admin.action(description=_("Reject the selected prices (the offers are held)"), permissions=["approve"])
    def reject(self, request: HttpRequest, queryset: QuerySet[PriceApproval]) -> HttpResponse | None:
        form = RejectPricesForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            result = price_approvals_reject(
                approval_ids=list(queryset.values_list("id", flat=True)),
                user=request.user.get_username(),
                reason=form.cleaned_data["reason"],
            )
            done = ngettext(
                "%(count)d price rejected; its offer is on hold, the product elected without it.",
                "%(count)d prices rejected; their offers are on hold, the products elected without them.",
                result.decided,
            ) % {"count": result.decided}
            self._decision_message(request, result, done)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject prices"),
            "opts": self.model._meta,
            "approvals": queryset.filter(status=PriceApproval.Status.PENDING).select_related("product"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "reject",
        }
        return TemplateResponse(request, "admin/catalog/price_reject.html", context)


@admin.register(PriceApprovalNotice)
class PriceApprovalNoticeAdmin(ReadOnlyAdmin):
    """The emails sent about prices waiting for approval (the throttle reads them)."""

    list_display = ["sent_at", "run", "pending", "recipients"]
    ordering = ["-sent_at"]


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    """Exchange rates: filled daily by the rates job, correctable by hand (a hand-entered rate of
    a day is never overwritten by the job)."""

    list_display = ["date", "currency", "rate", "source", "updated_at"]
    list_filter = ["currency", "source"]
    ordering = ["-date", "currency"]
    date_hierarchy = "date"
    fields = ["date", "currency", "rate", "source", "updated_at"]
    readonly_fields = ["source", "updated_at"]

    def save_model(self, request: HttpRequest, obj: CurrencyRate, form: Any, change: bool) -> None:
        currency_rate_save(rate=obj)

    def delete_model(self, request: HttpRequest, obj: CurrencyRate) -> None:
        currency_rate_delete(rate=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CurrencyRate]) -> None:
        for rate in queryset:
            currency_rate_delete(rate=rate)
