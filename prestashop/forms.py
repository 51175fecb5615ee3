"""Admin form pieces for mapping Genesys categories to shop categories."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.admin.widgets import AutocompleteMixin, get_select2_language
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.models import Category
from prestashop.models import PrestashopCategory
from prestashop.selectors import shop_category_label

SEARCH_URL_NAME = "admin:prestashop_prestashopcategory_search"


class ShopCategorySelect(forms.Select):
    """The admin's select2 autocomplete, searching the local copy of the shop's category tree.

    Django's ``AutocompleteSelect`` needs a foreign key; ``Category.id_ps_category`` is the shop's
    plain id (the catalog app does not depend on this one), so the options come from our own
    search view, which answers in the same JSON shape.
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.i18n_name = get_select2_language()

    def build_attrs(
        self, base_attrs: dict[str, Any], extra_attrs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs.update(
            {
                "data-ajax--cache": "true",
                "data-ajax--delay": 250,
                "data-ajax--type": "GET",
                "data-ajax--url": reverse(SEARCH_URL_NAME),
                "data-theme": "admin-autocomplete",
                "data-allow-clear": json.dumps(not self.is_required),
                "data-placeholder": str(_("Search the shop's categories by path")),
                "lang": self.i18n_name,
                "class": (attrs.get("class", "") + " admin-autocomplete").strip(),
            }
        )
        return attrs

    def optgroups(self, name: str, value: list[Any], attrs: dict[str, Any] | None = None) -> list[Any]:
        """Only the selected category is rendered; the others come from the search."""
        options: list[dict[str, Any]] = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        ids = [int(v) for v in value if str(v).isdigit()]
        known = {category.pk: category for category in PrestashopCategory.objects.filter(pk__in=ids)}
        for category_id in ids:
            category = known.get(category_id)
            label = (
                shop_category_label(category)
                if category
                else _("#%(id)s (not in the copy of the shop's categories)") % {"id": category_id}
            )
            options.append(self.create_option(name, str(category_id), label, True, len(options)))
        return [(None, options, 0)]

    @property
    def media(self) -> forms.Media:
        return AutocompleteMixin.media.fget(self)  # type: ignore[attr-defined]


class ShopCategoryField(forms.Field):
    """A shop category id chosen with ``ShopCategorySelect``; cleans to the id (or None)."""

    widget = ShopCategorySelect
    default_error_messages = {"invalid": _("Choose a shop category from the list.")}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def shop_category_check(value: int | None) -> None:
    """A newly chosen shop category must be known and able to hold products."""
    if value is None:
        return
    category = PrestashopCategory.objects.filter(pk=value).first()
    if category is None:
        raise ValidationError(
            _("Shop category %(id)s is unknown; synchronise the shop's categories first."),
            code="unknown",
            params={"id": value},
        )
    if not category.usable:
        raise ValidationError(
            _("%(label)s cannot receive products; choose another category."),
            code="unusable",
            params={"label": shop_category_label(category)},
        )


AUTO_IMPORT_NEEDS_MAPPING = _(
    "Auto-import creates products in the shop category this category is mapped to: "
    "map it to a shop category first."
)


class AutoImportNeedsMappingMixin:
    """Says which field breaks "auto-import needs a shop category" (a database rule) instead of
    a generic error, also where the form does not hold the mapping (the changelist's
    ``list_editable`` form, where Django would skip the constraint and the database would
    refuse the row)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        mapped = cleaned.get("id_ps_category", self.instance.id_ps_category)  # type: ignore[attr-defined]
        if cleaned.get("auto_import") and mapped is None:
            self.add_error("auto_import", ValidationError(AUTO_IMPORT_NEEDS_MAPPING, code="needs_mapping"))  # type: ignore[attr-defined]
        return cleaned


class CategoryShopForm(AutoImportNeedsMappingMixin, forms.ModelForm):
    id_ps_category = ShopCategoryField(
        label=_("Shop category"),
        required=False,
        help_text=_("Type part of the path, e.g. “portáteis” or “informática monitores”."),
    )

    class Meta:
        model = Category
        fields = ["name", "parent", "margin", "id_ps_category", "auto_import"]

    def clean_id_ps_category(self) -> int | None:
        value = self.cleaned_data.get("id_ps_category")
        if value != self.instance.id_ps_category:  # an existing mapping may stay as it is
            shop_category_check(value)
        return value


class CategoryMapForm(forms.Form):
    """The "map many at once" action's intermediate page."""

    KEEP, ON, OFF = "", "on", "off"
    id_ps_category = ShopCategoryField(label=_("Shop category"), required=True)
    auto_import = forms.ChoiceField(
        label=_("Auto-import"),
        required=False,
        choices=[(KEEP, _("leave as it is")), (ON, _("turn on")), (OFF, _("turn off"))],
    )

    def clean_id_ps_category(self) -> int | None:
        value = self.cleaned_data.get("id_ps_category")
        shop_category_check(value)
        return value

    @property
    def auto_import_choice(self) -> bool | None:
        return {self.ON: True, self.OFF: False}.get(self.cleaned_data.get("auto_import") or "")
