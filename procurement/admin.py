from __future__ import annotations

import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from genesys.admin_tools import ReadOnlyAdmin, pretty_json, status_badge
from procurement.admin_charts import SupplierRunHistoryMixin
from procurement.feeds.options import feed_settings_parse
from procurement.feeds.preview import PREVIEW_MAX_ROWS, feed_preview
from procurement.feeds.profile import profile_problems
from procurement.feeds.transforms import TRANSFORMS
from procurement.mapper_editor import mapper_editor_state
from procurement.models import (
    FeedMapper,
    FeedRun,
    IdentityConflict,
    IdentityRule,
    Supplier,
    SupplierFeed,
    SupplierItem,
)
from procurement.services.identity import (
    IdentityDecisionRefused,
    identity_conflict_ignore,
    identity_conflict_merge,
    identity_conflict_split,
    offers_release_outliers,
)
from procurement.services.runs import rejected_rows_csv
from procurement.services.scheduling import supplier_ingest_now, supplier_ingests_schedule
from procurement.services.suppliers import feed_save, supplier_save

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, WithAnnotations


class _SupplierCounts(TypedDict):
    _feed_count: int
    _offer_count: int


class _PriceRange(TypedDict):
    _low: Decimal | None
    _high: Decimal | None


class FeedInline(admin.TabularInline):
    model = SupplierFeed
    extra = 0
    fields = ("name", "format", "source_url", "is_active")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Supplier)
class SupplierAdmin(SupplierRunHistoryMixin, admin.ModelAdmin):
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
    readonly_fields = ["ingest_next_run_at", "created_at", "updated_at", "run_history"]
    inlines = [FeedInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Supplier]:
        return (
            super()
            .get_queryset(request)
            .annotate(_feed_count=Count("feeds", distinct=True), _offer_count=Count("items", distinct=True))
        )

    actions = ["ingest_now", "ingests_schedule"]

    def has_run_jobs_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("genesys.run_jobs")  # type: ignore[union-attr]

    def save_model(self, request: HttpRequest, obj: Supplier, form: Any, change: bool) -> None:
        # Margin and active-flag changes re-price and re-elect this supplier's products; the
        # ingest flags and interval (re)schedule its ingest job.
        supplier_save(supplier=obj, changed_fields=form.changed_data if change else ())

    @admin.action(description=_("Run ingest now"), permissions=["run_jobs"])
    def ingest_now(self, request: HttpRequest, queryset: QuerySet[Supplier]) -> None:
        started: list[str] = []
        busy: list[str] = []
        for supplier in queryset:
            run = supplier_ingest_now(
                supplier_id=supplier.pk, triggered_by=f"admin:{request.user.get_username()}"
            )
            (started if run else busy).append(supplier.name)
        if started:
            self.message_user(request, _("Ingest queued for: %(names)s.") % {"names": ", ".join(started)})
        if busy:
            self.message_user(
                request, _("Already running: %(names)s.") % {"names": ", ".join(busy)}, messages.WARNING
            )

    @admin.action(description=_("Schedule ingests (create missing jobs)"), permissions=["run_jobs"])
    def ingests_schedule(self, request: HttpRequest, queryset: QuerySet[Supplier]) -> None:
        summary = supplier_ingests_schedule(supplier_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(
            request,
            _(
                "%(created)d ingest job(s) scheduled; %(existing)d supplier(s) already had one; suppliers "
                "without scheduled ingest are left alone."
            )
            % {"created": len(summary.created), "existing": len(summary.existing)},
        )

    @admin.display(description=_("feeds"), ordering="_feed_count")
    def feed_count(self, obj: WithAnnotations[Supplier, _SupplierCounts]) -> int:
        return obj._feed_count

    @admin.display(description=_("offers"), ordering="_offer_count")
    def offer_count(self, obj: WithAnnotations[Supplier, _SupplierCounts]) -> int:
        return obj._offer_count


class MapperInline(admin.TabularInline):
    model = FeedMapper
    extra = 0
    fields = ["name", "is_active", "updated_at"]
    readonly_fields = ["updated_at"]
    show_change_link = True


class SupplierFeedForm(forms.ModelForm):
    class Meta:
        model = SupplierFeed
        fields = ["supplier", "name", *SupplierFeed.SETTINGS_FIELDS]

    def clean(self) -> dict[str, Any]:
        """Refuse unknown or invalid format options and pagination settings (docs/feeds.md)."""
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean returns
        if (
            cleaned.get("format")
            and not self.has_error("format_options")
            and not self.has_error("pagination")
        ):
            try:
                feed_settings_parse(
                    format=cleaned["format"],
                    format_options=cleaned.get("format_options") or {},
                    pagination=cleaned.get("pagination") or {},
                )
            except ValidationError as exc:
                for field_name, problems in exc.message_dict.items():
                    self.add_error(field_name if field_name in self.fields else None, problems)
        return cleaned


@admin.register(SupplierFeed)
class SupplierFeedAdmin(admin.ModelAdmin):
    form = SupplierFeedForm
    change_form_template = "admin/procurement/supplierfeed/change_form.html"
    actions = ["preview_action"]
    list_display = ["__str__", "format", "auth_type", "credentials_available", "is_active", "updated_at"]
    list_filter = ["format", "auth_type", "is_active", "supplier"]
    list_select_related = ["supplier"]
    search_fields = ["name", "supplier__name", "source_url"]
    autocomplete_fields = ["supplier"]
    readonly_fields = ["credentials_available", "url_credentials_note", "created_at", "updated_at"]
    inlines = [MapperInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "url_credentials_note",
                    "supplier",
                    "name",
                    "is_active",
                    "source_url",
                    "format",
                    "format_options",
                ]
            },
        ),
        (
            _("HTTP"),
            {"fields": ["headers", "auth_type", "auth_settings", "credentials_available", "pagination"]},
        ),
        (_("Prices"), {"fields": ["currency", "prices_include_vat", "vat_rate"]}),
        (_("Safety"), {"fields": ["unseen_min_ratio"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    def save_model(self, request: HttpRequest, obj: SupplierFeed, form: Any, change: bool) -> None:
        obj.url_credentials_removed = {}  # the form refused a URL with credentials: this one is clean
        # A new currency or VAT treatment moves every offer's landed cost: they are recomputed.
        feed_save(feed=obj, changed_fields=form.changed_data if change else ())

    @admin.display(description=_("credentials in the URL"))
    def url_credentials_note(self, obj: SupplierFeed) -> str:
        """The warning left by the migration that took credentials out of the source URL."""
        found = obj.url_credentials_removed or {}
        if found.get("env"):
            return format_html(
                '<strong style="color: #c62828">{}</strong>',
                gettext(
                    "The source URL carried credentials; they were removed (they are never stored). "
                    "Set %(names)s to their values where the workers run, then save this feed."
                )
                % {"names": ", ".join(found["env"])},
            )
        if found:
            names = list(found.get("params") or []) + (
                [gettext("user:password")] if found.get("userinfo") else []
            )
            return format_html(
                '<strong style="color: #c62828">{}</strong>',
                gettext(
                    "The source URL carried credentials (%(names)s); they were removed and the feed "
                    "deactivated. Set the authentication with environment-variable names, then "
                    "activate it again."
                )
                % {"names": ", ".join(names)},
            )
        return "-"

    @admin.display(description=_("credentials set"), boolean=True)
    def credentials_available(self, obj: SupplierFeed) -> bool | None:
        """Whether the named environment variables exist here; their values are never shown."""
        names = [v for k, v in (obj.auth_settings or {}).items() if k.endswith("_env")]
        if not names:
            return None
        return all(os.environ.get(name) for name in names)

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "<int:feed_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="procurement_supplierfeed_preview",
        )
        editor = path(
            "<int:feed_id>/mapper/",
            self.admin_site.admin_view(self.mapper_editor_view),
            name="procurement_supplierfeed_mapper",
        )
        return [preview, editor, *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_edit_mapper": self.has_mapper_editor_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def has_mapper_editor_permission(self, request: HttpRequest) -> bool:
        """Changing the mapper, and reading the feed from the web process to show its sample."""
        return request.user.has_perms(  # type: ignore[union-attr]
            ["procurement.change_feedmapper", "procurement.preview_supplierfeed"]
        )

    def mapper_editor_view(self, request: HttpRequest, feed_id: int) -> HttpResponse:
        """Pick each canonical field's source from the feed's sample, add transforms, see the rows."""
        if not self.has_mapper_editor_permission(request):
            raise PermissionDenied
        feed = get_object_or_404(SupplierFeed.objects.select_related("supplier"), pk=feed_id)
        state = mapper_editor_state(feed=feed, request=request)
        if state.saved:
            self.message_user(request, gettext("The mapper profile was saved."), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:procurement_supplierfeed_change", args=[feed.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": feed,
            "title": gettext("Mapper of %(feed)s") % {"feed": feed},
            "editor": state,
            "transform_types": list(TRANSFORMS),
        }
        fragment = request.headers.get("X-Mapper-Editor") == "fragment"
        template = (
            "admin/procurement/supplierfeed/_mapper_editor_form.html"
            if fragment
            else ("admin/procurement/supplierfeed/mapper_editor.html")
        )
        return TemplateResponse(request, template, context)

    def has_preview_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Previewing downloads the feed from the web process: a permission of its own."""
        return request.user.has_perm("procurement.preview_supplierfeed")  # type: ignore[union-attr]

    @admin.action(description=_("Preview feed"), permissions=["preview"])
    def preview_action(self, request: HttpRequest, queryset: QuerySet[SupplierFeed]) -> HttpResponse | None:
        feeds = list(queryset[:2])
        if len(feeds) != 1:
            self.message_user(request, gettext("Select exactly one feed to preview."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:procurement_supplierfeed_preview", args=[feeds[0].pk]))

    def preview_view(self, request: HttpRequest, feed_id: int) -> HttpResponse:
        """The first rows of the feed as the ingest would read them; downloads, writes nothing."""
        if not self.has_preview_permission(request):
            raise PermissionDenied
        feed = get_object_or_404(SupplierFeed.objects.select_related("supplier"), pk=feed_id)
        try:
            rows = int(request.GET.get("rows", 20))
        except ValueError:
            rows = 20
        preview = feed_preview(feed=feed, rows=rows)
        rows = max(1, min(rows, PREVIEW_MAX_ROWS))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": feed,
            "title": gettext("Preview of %(feed)s") % {"feed": feed},
            "preview": preview,
            "rows_requested": rows,
        }
        return TemplateResponse(request, "admin/procurement/feed_preview.html", context)


class FeedMapperForm(forms.ModelForm):
    class Meta:
        model = FeedMapper
        fields = ["feed", "name", "profile", "is_active"]

    def clean_profile(self) -> Any:
        """Refuse a profile the reader could not apply; every message names the profile path."""
        profile = self.cleaned_data.get("profile")
        problems = profile_problems(profile)
        if problems:
            raise ValidationError(problems)
        return profile


@admin.register(FeedMapper)
class FeedMapperAdmin(admin.ModelAdmin):
    form = FeedMapperForm
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
        "identity_conflicts",
        "price_outliers",
        "stream_rows",
        "unseen_handling",
        "job_run_link",
    ]
    list_filter = ["status", "feed__supplier", "dry_run", "unseen_handling"]
    ordering = ["-started_at", "-id"]
    list_select_related = ["feed__supplier", "job_run"]
    search_fields = ["feed__name", "feed__supplier__name", "error"]
    date_hierarchy = "started_at"
    exclude = ["timings", "warnings", "rejected_rows"]
    readonly_fields = ["timings_pretty", "warnings_pretty", "rejected_rows_download", "rejected_rows_pretty"]

    def get_urls(self) -> list[URLPattern]:
        download = path(
            "<int:run_id>/rejected.csv",
            self.admin_site.admin_view(self.rejected_csv_view),
            name="procurement_feedrun_rejected_csv",
        )
        return [download, *super().get_urls()]

    def rejected_csv_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        """The run's sample of rejected rows (up to 1,000) as a CSV file, for the supplier or a fix."""
        if not request.user.has_perm("procurement.download_rejected_rows"):  # type: ignore[union-attr]
            raise PermissionDenied
        run = get_object_or_404(FeedRun, pk=run_id)
        response = HttpResponse(rejected_rows_csv(run=run), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="feed-run-{run.pk}-rejected-rows.csv"'
        return response

    @admin.display(description=_("job run"), ordering="job_run")
    def job_run_link(self, obj: FeedRun) -> str:
        """The ledger run that carried this ingest (its log, retries and timings live there)."""
        if obj.job_run_id is None:
            return "-"
        url = reverse("admin:genesys_jobrun_change", args=[obj.job_run_id])
        return format_html('<a href="{}">#{}</a>', url, obj.job_run_id)

    @admin.display(description=_("rejected rows (CSV)"))
    def rejected_rows_download(self, obj: FeedRun) -> str:
        if not obj.rejected_rows:
            return gettext("No rejected rows.")
        url = reverse("admin:procurement_feedrun_rejected_csv", args=[obj.pk])
        shown = len(obj.rejected_rows)
        label = ngettext(
            "Download %(count)d rejected row as CSV", "Download %(count)d rejected rows as CSV", shown
        ) % {"count": shown}
        if obj.rows_rejected > shown:
            label += " " + gettext("(the first %(shown)d of %(total)d)") % {
                "shown": shown,
                "total": obj.rows_rejected,
            }
        return format_html('<a href="{}">{}</a>', url, label)

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


class ListedFilter(admin.SimpleListFilter):
    """Whether the feed still lists the offer (``missing_since``)."""

    title = _("listed by the feed")
    parameter_name = "listed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("yes", _("Listed")), ("no", _("Missing from the feed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SupplierItem]) -> QuerySet[SupplierItem]:
        if self.value() == "yes":
            return queryset.filter(missing_since__isnull=True)
        if self.value() == "no":
            return queryset.filter(missing_since__isnull=False)
        return queryset


@admin.register(SupplierItem)
class SupplierItemAdmin(ReadOnlyAdmin):
    list_display = [
        "sku",
        "supplier",
        "feed",
        "product",
        "price",
        "stock",
        "hold_reason",
        "missing_since",
        "last_read_run",
        "updated_at",
    ]
    list_filter = ["hold_reason", ListedFilter, "supplier", "feed"]
    ordering = ["-id"]
    list_select_related = ["supplier", "feed", "product", "last_read_run"]
    search_fields = ["=sku", "gtin_raw", "partnumber_raw", "name_raw", "product__name"]
    readonly_fields = ["landed_cost"]

    @admin.display(description=_("landed cost"))
    def landed_cost(self, obj: SupplierItem) -> str:
        """The feed's price, its conversion to the shop's currency and the supplier's costs."""
        from catalog.selectors import offer_landed_cost_explain

        return offer_landed_cost_explain(item=obj, weight=obj.product.weight)

    date_hierarchy = "updated_at"
    actions = ["release_outliers", "release_rejected_prices"]

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("procurement.release_supplieritem")  # type: ignore[union-attr]

    def has_approve_prices_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("catalog.approve_prices")  # type: ignore[union-attr]

    @admin.action(description=_("Release rejected-price holds"), permissions=["approve_prices"])
    def release_rejected_prices(self, request: HttpRequest, queryset: QuerySet[SupplierItem]) -> None:
        """A price decision, so it needs the approval permission; the guard judges the price again."""
        from catalog.services.approvals import rejected_offers_release

        released = rejected_offers_release(
            item_ids=list(queryset.values_list("id", flat=True)), user=request.user.get_username()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d offer released; offers not held for a rejected price were left alone.",
                "%(count)d offers released; offers not held for a rejected price were left alone.",
                released,
            )
            % {"count": released},
        )

    @admin.action(description=_("Release price-outlier holds"), permissions=["release"])
    def release_outliers(self, request: HttpRequest, queryset: QuerySet[SupplierItem]) -> None:
        """The operator checked the cost: the offer competes again, and the same cost is not held
        again until it changes materially."""
        try:
            released = offers_release_outliers(
                item_ids=list(queryset.values_list("id", flat=True)), user=request.user.get_username()
            )
        except IdentityDecisionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d offer released; offers not held as price outliers were left alone.",
                "%(count)d offers released; offers not held as price outliers were left alone.",
                released,
            )
            % {"count": released},
        )


class IdentityConflictToReview(admin.SimpleListFilter):
    """The to-do list by default: open conflicts; dismissed and resolved ones on request."""

    title = _("review")
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("all", _("All")), ("ignored", _("Ignored")), ("resolved", _("Resolved"))]

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("To review"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[IdentityConflict]) -> QuerySet:
        value = self.value()
        if value == "all":
            return queryset
        if value == "ignored":
            return queryset.filter(status=IdentityConflict.Status.IGNORED)
        if value == "resolved":
            return queryset.exclude(
                status__in=[IdentityConflict.Status.OPEN, IdentityConflict.Status.IGNORED]
            )
        return queryset.filter(status=IdentityConflict.Status.OPEN)


@admin.register(IdentityConflict)
class IdentityConflictAdmin(ReadOnlyAdmin):
    """SKUs of one feed that resolved to one product but disagree, with their rows side by side."""

    list_display = ["product", "feed", "sku_count", "price_range", "status_label", "detected_at", "run"]
    list_filter = [IdentityConflictToReview, "status", "feed__supplier"]
    list_select_related = ["product", "feed__supplier", "run"]
    ordering = ["-detected_at", "-id"]
    search_fields = ["product__name", "product__partnumber", "feed__name", "feed__supplier__name"]
    change_form_template = "admin/procurement/identityconflict/change_form.html"
    fields = (
        "feed",
        "product",
        "status",
        "reasons_list",
        "rows_table",
        "run",
        "detected_at",
        "resolved_at",
        "resolved_by",
    )
    readonly_fields = fields
    actions = ["split", "merge", "ignore"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[IdentityConflict]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _low=Min("product__offers__price", filter=Q(product__offers__feed_id=F("feed_id"))),
                _high=Max("product__offers__price", filter=Q(product__offers__feed_id=F("feed_id"))),
            )
        )

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("procurement.resolve_identityconflict")  # type: ignore[union-attr]

    def get_urls(self) -> list[URLPattern]:
        resolve = path(
            "<int:conflict_id>/resolve/<str:decision>/",
            self.admin_site.admin_view(self.resolve_view),
            name="procurement_identityconflict_resolve",
        )
        return [resolve, *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_resolve": self.has_resolve_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def resolve_view(self, request: HttpRequest, conflict_id: int, decision: str) -> HttpResponse:
        """The decision buttons of the conflict page (POST only, with the resolve permission)."""
        if not self.has_resolve_permission(request):
            raise PermissionDenied
        deciders = {"split": self.split, "merge": self.merge, "ignore": self.ignore}
        if request.method != "POST" or decision not in deciders:
            return HttpResponseRedirect(
                reverse("admin:procurement_identityconflict_change", args=[conflict_id])
            )
        get_object_or_404(IdentityConflict, pk=conflict_id)
        deciders[decision](request, IdentityConflict.objects.filter(pk=conflict_id))
        return HttpResponseRedirect(reverse("admin:procurement_identityconflict_changelist"))

    @admin.display(description=_("SKUs"))
    def sku_count(self, obj: IdentityConflict) -> int:
        return len(obj.skus)

    @admin.display(description=_("prices"))
    def price_range(self, obj: WithAnnotations[IdentityConflict, _PriceRange]) -> str:
        low, high = obj._low, obj._high  # both null when no offer of the feed has a price
        if low is None or high is None:
            return "-"
        return f"{low.normalize():f} - {high.normalize():f}"

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: IdentityConflict) -> str:
        colour = {"open": "warning", "ignored": "skipped", "accepted": "success", "split": "success"}
        return status_badge(colour.get(obj.status, obj.status), obj.get_status_display())

    @admin.display(description=_("why they disagree"))
    def reasons_list(self, obj: IdentityConflict) -> str:
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in obj.reasons)))

    @admin.display(description=_("rows as the feed gave them"))
    def rows_table(self, obj: IdentityConflict) -> str:
        offers = SupplierItem.objects.filter(feed_id=obj.feed_id, product_id=obj.product_id).order_by("id")
        header = format_html_join(
            "",
            "<th>{}</th>",
            (
                (label,)
                for label in (
                    gettext("SKU"),
                    gettext("name"),
                    gettext("price"),
                    gettext("GTIN"),
                    gettext("brand"),
                    gettext("part number"),
                    gettext("stock"),
                    gettext("hold"),
                )
            ),
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    offer.sku,
                    offer.name_raw,
                    f"{offer.price.normalize():f}",
                    offer.gtin_raw,
                    offer.brand_raw,
                    offer.partnumber_raw,
                    offer.stock,
                    offer.get_hold_reason_display() if offer.hold_reason else "",
                )
                for offer in offers
            ),
        )
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", header, body)

    def _resolve(self, request: HttpRequest, queryset: QuerySet[IdentityConflict], decide: Any) -> int:
        done = 0
        for conflict_id in queryset.values_list("id", flat=True):
            try:
                decide(conflict_id=conflict_id, user=request.user.get_username())
            except IdentityDecisionRefused as exc:
                conflict = IdentityConflict.objects.select_related("product").get(pk=conflict_id)
                text = gettext("%(product)s: %(problem)s") % {"product": conflict.product, "problem": exc}
                self.message_user(request, text, messages.ERROR)
            else:
                done += 1
        return done

    @admin.action(description=_("Split into distinct products (one per SKU)"), permissions=["resolve"])
    def split(self, request: HttpRequest, queryset: QuerySet[IdentityConflict]) -> None:
        done = self._resolve(request, queryset, identity_conflict_split)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d conflict split: each SKU is its own product, now and in the next ingests.",
                    "%(count)d conflicts split: each SKU is its own product, now and in the next ingests.",
                    done,
                )
                % {"count": done},
            )

    @admin.action(description=_("Merge anyway (the SKUs are one product)"), permissions=["resolve"])
    def merge(self, request: HttpRequest, queryset: QuerySet[IdentityConflict]) -> None:
        done = self._resolve(request, queryset, identity_conflict_merge)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d conflict merged: its offers compete again.",
                    "%(count)d conflicts merged: their offers compete again.",
                    done,
                )
                % {"count": done},
            )

    @admin.action(description=_("Ignore (offers stay held)"), permissions=["resolve"])
    def ignore(self, request: HttpRequest, queryset: QuerySet[IdentityConflict]) -> None:
        done = self._resolve(request, queryset, identity_conflict_ignore)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d conflict ignored: its offers stay held.",
                    "%(count)d conflicts ignored: their offers stay held.",
                    done,
                )
                % {"count": done},
            )


@admin.register(IdentityRule)
class IdentityRuleAdmin(admin.ModelAdmin):
    """Split rules: delete one to let the supplier's SKUs merge again on the next ingest."""

    list_display = ["supplier", "brand", "partnumber", "gtin", "created_by", "created_at"]
    list_filter = ["supplier"]
    list_select_related = ["supplier", "brand"]
    search_fields = ["partnumber", "brand__name", "supplier__name"]
    readonly_fields = [
        "supplier",
        "brand",
        "partnumber",
        "partnumber_normalized",
        "gtin",
        "conflict",
        "created_at",
        "created_by",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
