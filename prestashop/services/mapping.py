"""Operator mapping of Genesys categories to shop categories, many at once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Category
from catalog.normalize import name_normalize
from prestashop.models import PrestashopCategory
from prestashop.services.reference import PS_CATEGORY_NAME_MAX


class MappingError(ValueError):
    """The mapping asked for cannot be made; the message is for the operator."""


@dataclass
class CategoryMapResult:
    mapped: int = 0
    auto_import_enabled: int = 0
    auto_import_disabled: int = 0


@dataclass
class AutoImportSetResult:
    changed: int = 0
    skipped_unmapped: int = 0  # auto-import needs a shop category (a database rule)


@transaction.atomic
def categories_map(
    *, category_ids: Collection[int], id_ps_category: int | None, auto_import: bool | None = None
) -> CategoryMapResult:
    """Map categories to one shop category (``None`` unmaps them and turns auto-import off).

    ``auto_import`` True/False also switches auto-import; None leaves it as it is.
    """
    ids = list(category_ids)
    now = timezone.now()
    categories = Category.objects.filter(id__any_of=ids)
    result = CategoryMapResult()
    if id_ps_category is None:
        result.auto_import_disabled = categories.filter(auto_import=True).count()
        result.mapped = categories.update(
            id_ps_category=None, ps_category_name="", auto_import=False, updated_at=now
        )
        return result
    target = PrestashopCategory.objects.filter(pk=id_ps_category).first()
    if target is None:
        raise MappingError(
            _("Shop category %(id)s is unknown; synchronise the shop's categories first.")
            % {"id": id_ps_category}
        )
    if not target.usable:
        raise MappingError(
            _("Shop category %(name)s cannot receive products.") % {"name": target.full_path or target.pk}
        )
    if auto_import is not None:
        changing = categories.exclude(auto_import=auto_import).count()
        if auto_import:
            result.auto_import_enabled = changing
        else:
            result.auto_import_disabled = changing
    fields = {
        "id_ps_category": target.pk,
        "ps_category_name": target.full_path[:PS_CATEGORY_NAME_MAX],
        "updated_at": now,
    }
    if auto_import is not None:
        fields["auto_import"] = auto_import
    result.mapped = categories.update(**fields)
    return result


@transaction.atomic
def categories_auto_import_set(*, category_ids: Collection[int], enabled: bool) -> AutoImportSetResult:
    """Switch auto-import of categories; unmapped ones cannot have it and are skipped."""
    categories = Category.objects.filter(id__any_of=list(category_ids))
    result = AutoImportSetResult()
    if enabled:
        result.skipped_unmapped = categories.filter(id_ps_category__isnull=True, auto_import=False).count()
        categories = categories.filter(id_ps_category__isnull=False)
    result.changed = categories.exclude(auto_import=enabled).update(
        auto_import=enabled, updated_at=timezone.now()
    )
    return result


@dataclass
class PathMapResult:
    mapped: int = 0
    already: int = 0
    unmatched: list[str] = field(default_factory=list)  # paths with no shop category of the same path


@transaction.atomic
def categories_map_by_path(*, category_ids: Collection[int]) -> PathMapResult:
    """Map each category to the shop category with the same path, ignoring case and accents.

    Most shops name their tree like their suppliers do ("Informática > Portáteis"); this maps
    those in one click and lists the rest for a manual choice. Auto-import is left as it is.
    """
    shop = {
        c.search_path: c
        for c in PrestashopCategory.objects.filter(removed_at__isnull=True, is_root=False).order_by("id")
    }
    result = PathMapResult()
    changed = []
    now = timezone.now()
    for category in Category.objects.filter(id__any_of=list(category_ids)).order_by("full_path"):
        target = shop.get(name_normalize(category.full_path))
        if target is None:
            result.unmatched.append(category.full_path)
        elif category.id_ps_category == target.pk:
            result.already += 1
        else:
            category.id_ps_category = target.pk
            category.ps_category_name = target.full_path[:PS_CATEGORY_NAME_MAX]
            category.updated_at = now
            changed.append(category)
    Category.objects.bulk_update(changed, ["id_ps_category", "ps_category_name", "updated_at"])
    result.mapped = len(changed)
    return result
