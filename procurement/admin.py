from __future__ import annotations

import os
from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from catalog.services.changes import supplier_save
from genesys.admin_tools import ReadOnlyAdmin, pretty_json, status_badge
from procurement.models import FeedMapper, FeedRun, Supplier, SupplierFeed, SupplierItem


class FeedInline(admin.TabularInline):
    model = SupplierFeed
    extra = 0
    fields = ["name", "format", "source_url", "is_active"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_active",
        "margin",
        "priority",
        "ingest_enabled",
        "ingest_interval_minutes",
        "ingest_next_run_at",
        "feed_count",
        "offer_count",
    ]
    list_filter = ["is_active", "ingest_enabled"]
    search_fields = ["name"]
    readonly_fields = ["ingest_next_run_at", "created_at", "updated_at"]
    inlines = [FeedInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Supplier]:
        return (
            super()
            .get_queryset(request)
            .annotate(_feed_count=Count("feeds", distinct=True), _offer_count=Count("items", distinct=True))
        )

    def save_model(self, request: HttpRequest, obj: Supplier, form: Any, change: bool) -> None:
        # Margin and active-flag changes re-price and re-elect this supplier's products.
        supplier_save(supplier=obj, changed_fields=form.changed_data if change else ())

    @admin.display(description=_("feeds"), ordering="_feed_count")
    def feed_count(self, obj: Supplier) -> int:
        return obj._feed_count

    @admin.display(description=_("offers"), ordering="_offer_count")
    def offer_count(self, obj: Supplier) -> int:
        return obj._offer_count


class MapperInline(admin.TabularInline):
    model = FeedMapper
    extra = 0
    fields = ["name", "is_active", "updated_at"]
    readonly_fields = ["updated_at"]
    show_change_link = True


@admin.register(SupplierFeed)
class SupplierFeedAdmin(admin.ModelAdmin):
    list_display = ["__str__", "format", "auth_type", "credentials_available", "is_active", "updated_at"]
    list_filter = ["format", "auth_type", "is_active", "supplier"]
    list_select_related = ["supplier"]
    search_fields = ["name", "supplier__name", "source_url"]
    autocomplete_fields = ["supplier"]
    readonly_fields = ["credentials_available", "created_at", "updated_at"]
    inlines = [MapperInline]
    fieldsets = [
        (None, {"fields": ["supplier", "name", "is_active", "source_url", "format", "format_options"]}),
        (
            _("HTTP"),
            {"fields": ["headers", "auth_type", "auth_settings", "credentials_available", "pagination"]},
        ),
        (_("Safety"), {"fields": ["unseen_min_ratio"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("credentials set"), boolean=True)
    def credentials_available(self, obj: SupplierFeed) -> bool | None:
        """Whether the named environment variables exist here; their values are never shown."""
        names = [v for k, v in (obj.auth_settings or {}).items() if k.endswith("_env")]
        if not names:
            return None
        return all(os.environ.get(name) for name in names)


@admin.register(FeedMapper)
class FeedMapperAdmin(admin.ModelAdmin):
    list_display = ["feed", "name", "is_active", "updated_at"]
    list_filter = ["is_active"]
    list_select_related = ["feed__supplier"]
    search_fields = ["name", "feed__name", "feed__supplier__name"]
    autocomplete_fields = ["feed"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(FeedRun)
class FeedRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "feed",
        "status_label",
        "started_at",
        "duration",
        "rows_read",
        "rows_valid",
        "rows_rejected",
        "products_created",
        "offers_created",
        "offers_changed",
        "offers_zeroed",
        "stream_rows",
        "unseen_handling",
    ]
    list_filter = ["status", "feed__supplier", "dry_run", "unseen_handling"]
    ordering = ["-started_at", "-id"]
    list_select_related = ["feed__supplier"]
    search_fields = ["feed__name", "feed__supplier__name", "error"]
    date_hierarchy = "started_at"
    exclude = ["timings", "warnings", "rejected_rows"]
    readonly_fields = ["timings_pretty", "warnings_pretty", "rejected_rows_pretty"]

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: FeedRun) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=_("duration (s)"))
    def duration(self, obj: FeedRun) -> Any:
        seconds = obj.duration_seconds
        return None if seconds is None else round(seconds, 1)

    @admin.display(description=_("phase timings (s)"))
    def timings_pretty(self, obj: FeedRun) -> str:
        return pretty_json(obj.timings)

    @admin.display(description=_("warning messages"))
    def warnings_pretty(self, obj: FeedRun) -> str:
        return pretty_json(obj.warnings)

    @admin.display(description=_("rejected rows (sample)"))
    def rejected_rows_pretty(self, obj: FeedRun) -> str:
        return pretty_json(obj.rejected_rows[:50])


@admin.register(SupplierItem)
class SupplierItemAdmin(ReadOnlyAdmin):
    list_display = ["sku", "supplier", "feed", "product", "price", "stock", "last_seen_run", "updated_at"]
    list_filter = ["supplier", "feed"]
    ordering = ["-id"]
    list_select_related = ["supplier", "feed", "product"]
    search_fields = ["=sku", "gtin_raw", "partnumber_raw", "product__name"]
    date_hierarchy = "updated_at"
