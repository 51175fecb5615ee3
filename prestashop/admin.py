"""The shop side of the admin: the shop's categories and manufacturers, and the mapping screens.

The Genesys category and brand admins are extended here (unregistered and registered again with
shop columns, filters and actions), so the catalog app keeps no dependency on the shop app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.admin import BrandAdmin, CategoryAdmin
from catalog.models import Brand, Category
from catalog.services.changes import category_save
from genesys.admin_tools import EMPTY, ReadOnlyAdmin
from prestashop.forms import AutoImportNeedsMappingMixin, CategoryMapForm, CategoryShopForm
from prestashop.models import PrestashopCategory, PrestashopManufacturer
from prestashop.selectors import brand_manufacturer_id, shop_categories_search, shop_category_label
from prestashop.services.mapping import (
    MappingError,
    categories_auto_import_set,
    categories_map,
    categories_map_by_path,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, WithAnnotations


class _Mapped(TypedDict):
    _mapped: int


class _Brands(TypedDict):
    _brands: int


class _ShopFacts(TypedDict):
    _not_in_shop: int
    _shop_path: str | None
    _shop_usable: bool


class _Manufacturer(TypedDict):
    _manufacturer_id: int | None
    _manufacturer_name: str | None


SEARCH_PAGE_SIZE = 20


# --- the shop's own data ---------------------------------------------------------------------


@admin.register(PrestashopCategory)
class PrestashopCategoryAdmin(ReadOnlyAdmin):
    list_display = ["full_path", "id", "depth", "active", "removed_at", "mapped_categories", "synced_at"]
    list_filter = ["active", ("removed_at", admin.EmptyFieldListFilter), "is_root", "depth"]
    search_fields = ["full_path"]
    ordering = ["full_path"]
    show_full_result_count = True  # a few thousand rows at most

    def get_queryset(self, request: HttpRequest) -> QuerySet[PrestashopCategory]:
        mapped = (
            Category.objects.filter(id_ps_category=OuterRef("pk"))
            .order_by()
            .values("id_ps_category")
            .annotate(n=Count("id"))
            .values("n")
        )
        return super().get_queryset(request).annotate(_mapped=Coalesce(Subquery(mapped), 0))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if not search_term:
            return queryset, False
        return queryset.filter(pk__in=shop_categories_search(term=search_term).values("pk")), False

    @admin.display(description=_("Genesys categories mapped to it"), ordering="_mapped")
    def mapped_categories(self, obj: WithAnnotations[PrestashopCategory, _Mapped]) -> int:
        return obj._mapped

    def get_urls(self) -> list[Any]:
        search = self.admin_site.admin_view(self.search_view)
        return [path("search/", search, name="prestashop_prestashopcategory_search"), *super().get_urls()]

    def search_view(self, request: HttpRequest) -> HttpResponse:
        """Options for the mapping widget, in the JSON shape of the admin's autocomplete."""
        if not (
            self.has_view_permission(request) or request.user.has_perm("catalog.change_category")  # type: ignore[union-attr]
        ):
            raise PermissionDenied
        queryset = shop_categories_search(term=request.GET.get("term", ""))
        page = Paginator(queryset, SEARCH_PAGE_SIZE).get_page(request.GET.get("page") or 1)
        return JsonResponse(
            {
                "results": [{"id": str(c.pk), "text": shop_category_label(c)} for c in page.object_list],
                "pagination": {"more": page.has_next()},
            }
        )


@admin.register(PrestashopManufacturer)
class PrestashopManufacturerAdmin(ReadOnlyAdmin):
    list_display = ["name", "id", "active", "removed_at", "matched_brands", "synced_at"]
    list_filter = ["active", ("removed_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "normalized_name", "=id"]
    show_full_result_count = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[PrestashopManufacturer]:
        brands = (
            Brand.objects.filter(normalized_name=OuterRef("normalized_name"))
            .order_by()
            .values("normalized_name")
            .annotate(n=Count("id"))
            .values("n")
        )
        return super().get_queryset(request).annotate(_brands=Coalesce(Subquery(brands), 0))

    @admin.display(description=_("Genesys brands with this name"), ordering="_brands")
    def matched_brands(self, obj: WithAnnotations[PrestashopManufacturer, _Brands]) -> int:
        return obj._brands


# --- Genesys categories: mapping -------------------------------------------------------------


class ShopMappingFilter(admin.SimpleListFilter):
    title = _("shop mapping")
    parameter_name = "shop_mapping"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("unmapped_with_products", _("Not mapped, with products")),
            ("unmapped", _("Not mapped")),
            ("mapped", _("Mapped")),
            ("broken", _("Mapped to a category gone from the shop")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "unmapped_with_products":
            return queryset.filter(id_ps_category__isnull=True, _product_count__gt=0)
        if value == "unmapped":
            return queryset.filter(id_ps_category__isnull=True)
        if value == "mapped":
            return queryset.filter(id_ps_category__isnull=False)
        if value == "broken":
            return queryset.filter(id_ps_category__isnull=False, _shop_usable=False)
        return queryset


class CategoryChangelistForm(AutoImportNeedsMappingMixin, forms.ModelForm):
    """The changelist's ``list_editable`` form (auto-import only)."""


admin.site.unregister(Category)


@admin.register(Category)
class CategoryShopAdmin(CategoryAdmin):
    form = CategoryShopForm
    list_display = [
        "full_path",
        "shop_category",
        "auto_import",
        "margin",
        "product_count",
        "products_not_in_shop",
    ]
    list_editable = ["auto_import"]
    list_filter = [ShopMappingFilter, "auto_import"]
    readonly_fields = [*CategoryAdmin.readonly_fields, "ps_category_name"]
    actions = ["map_to_shop_category", "map_by_path", "enable_auto_import", "disable_auto_import", "unmap"]
    fieldsets = [
        (None, {"fields": ["name", "parent", "full_path", "normalized_name", "margin"]}),
        (_("Shop"), {"fields": ["id_ps_category", "ps_category_name", "auto_import"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        shop = PrestashopCategory.objects.filter(pk=OuterRef("id_ps_category"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                _not_in_shop=Count("products", filter=Q(products__id_ecommerce__isnull=True)),
                _shop_path=Subquery(shop.values("full_path")[:1]),
                _shop_usable=Exists(shop.filter(removed_at__isnull=True, is_root=False)),
            )
        )

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("form", CategoryChangelistForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        changed = list(form.changed_data) if change else []
        if "id_ps_category" in form.changed_data or not change:
            target = (
                PrestashopCategory.objects.filter(pk=obj.id_ps_category).first()
                if obj.id_ps_category
                else None
            )
            obj.ps_category_name = target.full_path[:255] if target else ""
            changed.append("ps_category_name")
        category_save(category=obj, changed_fields=changed)

    @admin.display(description=_("shop category"), ordering="_shop_path")
    def shop_category(self, obj: WithAnnotations[Category, _ShopFacts]) -> StrOrPromise:
        if obj.id_ps_category is None:
            return EMPTY
        label = f"{obj._shop_path or obj.ps_category_name or '?'} (#{obj.id_ps_category})"
        if obj._shop_usable:
            return label
        warning = _("gone from the shop") if obj._shop_path else _("unknown: synchronise the shop")
        return format_html('{} <strong style="color: #c62828">{}</strong>', label, warning)

    @admin.display(description=_("not in the shop yet"), ordering="_not_in_shop")
    def products_not_in_shop(self, obj: WithAnnotations[Category, _ShopFacts]) -> int:
        return obj._not_in_shop

    @admin.action(description=_("Map to a shop category…"), permissions=["change"])
    def map_to_shop_category(self, request: HttpRequest, queryset: QuerySet[Category]) -> HttpResponse | None:
        form = CategoryMapForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                result = categories_map(
                    category_ids=list(queryset.values_list("id", flat=True)),
                    id_ps_category=form.cleaned_data["id_ps_category"],
                    auto_import=form.auto_import_choice,
                )
            except MappingError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(
                request,
                ngettext(
                    "%(count)d category mapped to the shop category.",
                    "%(count)d categories mapped to the shop category.",
                    result.mapped,
                )
                % {"count": result.mapped},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Map to a shop category"),
            "opts": self.model._meta,
            "categories": queryset.order_by("full_path"),
            "form": form,
            "media": self.media + form.media,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "map_to_shop_category",
        }
        return TemplateResponse(request, "admin/prestashop/category_map.html", context)

    @admin.action(description=_("Map to the shop category with the same path"), permissions=["change"])
    def map_by_path(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        result = categories_map_by_path(category_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(
            request,
            _("%(mapped)d categories mapped, %(already)d were already mapped to it.")
            % {"mapped": result.mapped, "already": result.already},
        )
        if result.unmatched:
            self.message_user(
                request,
                _("No shop category has the path of: %(paths)s. Map them by hand.")
                % {"paths": "; ".join(result.unmatched[:20])},
                messages.WARNING,
            )

    @admin.action(description=_("Turn auto-import on"), permissions=["change"])
    def enable_auto_import(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        result = categories_auto_import_set(
            category_ids=list(queryset.values_list("id", flat=True)), enabled=True
        )
        self.message_user(
            request,
            ngettext(
                "Auto-import turned on for %(count)d category.",
                "Auto-import turned on for %(count)d categories.",
                result.changed,
            )
            % {"count": result.changed},
        )
        if result.skipped_unmapped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d category has no shop category and was left without auto-import.",
                    "%(count)d categories have no shop category and were left without auto-import.",
                    result.skipped_unmapped,
                )
                % {"count": result.skipped_unmapped},
                messages.WARNING,
            )

    @admin.action(description=_("Turn auto-import off"), permissions=["change"])
    def disable_auto_import(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        result = categories_auto_import_set(
            category_ids=list(queryset.values_list("id", flat=True)), enabled=False
        )
        self.message_user(
            request,
            ngettext(
                "Auto-import turned off for %(count)d category.",
                "Auto-import turned off for %(count)d categories.",
                result.changed,
            )
            % {"count": result.changed},
        )

    @admin.action(description=_("Remove the shop mapping (and auto-import)"), permissions=["change"])
    def unmap(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        result = categories_map(category_ids=list(queryset.values_list("id", flat=True)), id_ps_category=None)
        self.message_user(
            request,
            ngettext(
                "%(count)d category is no longer mapped.",
                "%(count)d categories are no longer mapped.",
                result.mapped,
            )
            % {"count": result.mapped},
        )


# --- Genesys brands: matching ----------------------------------------------------------------


class ShopMatchFilter(admin.SimpleListFilter):
    title = _("matched in the shop")
    parameter_name = "shop_match"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(_manufacturer_id__isnull=False)
        if self.value() == "no":
            return queryset.filter(_manufacturer_id__isnull=True)
        return queryset


admin.site.unregister(Brand)


@admin.register(Brand)
class BrandShopAdmin(BrandAdmin):
    list_display = ["name", "normalized_name", "shop_manufacturer", "product_count", "updated_at"]
    list_filter = [ShopMatchFilter]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Brand]:
        names = PrestashopManufacturer.objects.filter(pk=OuterRef("_manufacturer_id")).values("name")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(_manufacturer_id=brand_manufacturer_id())
            .annotate(_manufacturer_name=Subquery(names))
        )

    @admin.display(description=_("shop manufacturer"), ordering="_manufacturer_id")
    def shop_manufacturer(self, obj: WithAnnotations[Brand, _Manufacturer]) -> str:
        if obj._manufacturer_id is None:
            return format_html('<span style="color: #c62828">{}</span>', _("not in the shop"))
        return f"{obj._manufacturer_name} (#{obj._manufacturer_id})"
