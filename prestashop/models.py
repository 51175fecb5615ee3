"""Local copies of the shop's reference data: its category tree and its manufacturers.

``shop_reference_sync`` refreshes them. They are keyed by the shop's own ids, which is what
``Category.id_ps_category`` stores. Entries the shop no longer lists are kept, inactive and with
``removed_at`` set, so a Genesys category mapped to them still shows what it pointed at.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PrestashopCategory(models.Model):
    id = models.PositiveIntegerField(_("shop id"), primary_key=True)
    id_parent = models.PositiveIntegerField(_("shop parent id"), default=0)
    name = models.CharField(_("name"), max_length=255, help_text=_("In the shop's first language."))
    names = models.JSONField(_("names by language id"), default=dict, blank=True)
    depth = models.PositiveSmallIntegerField(
        _("depth"), default=0, help_text=_("1 for a top-level category, 0 for Root and the home category.")
    )
    full_path = models.CharField(
        _("full path"),
        max_length=1000,
        help_text=_('Names from the top level, e.g. "Informática > Portáteis".'),
    )
    search_path = models.CharField(
        _("search path"),
        max_length=1000,
        editable=False,
        # No index: searches are substring matches over a few thousand rows at most.
        help_text=_("The full path with case and accents folded, for searching."),
    )
    active = models.BooleanField(_("active"), default=True)
    is_root = models.BooleanField(
        _("root"), default=False, help_text=_("Root or a shop's home category: never holds products.")
    )
    synced_at = models.DateTimeField(_("last seen in the shop"))
    removed_at = models.DateTimeField(
        _("gone from the shop since"),
        null=True,
        blank=True,
        help_text=_("Kept so that mappings to it keep their meaning; it cannot receive new products."),
    )

    class Meta:
        verbose_name = _("shop category")
        verbose_name_plural = _("shop categories")
        ordering = ["full_path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(active=False),
                name="ps_category_removed_is_inactive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_path or self.name} (#{self.pk})"

    @property
    def usable(self) -> bool:
        """Products can be created in it."""
        return self.removed_at is None and not self.is_root


class PrestashopManufacturer(models.Model):
    id = models.PositiveIntegerField(_("shop id"), primary_key=True)
    name = models.CharField(_("name"), max_length=255)
    normalized_name = models.CharField(
        _("normalised name"),
        max_length=255,
        db_index=True,
        editable=False,
        help_text=_("Case, accents and spaces folded: Genesys brands match on this."),
    )
    active = models.BooleanField(_("active"), default=True)
    synced_at = models.DateTimeField(_("last seen in the shop"))
    removed_at = models.DateTimeField(_("gone from the shop since"), null=True, blank=True)

    class Meta:
        verbose_name = _("shop manufacturer")
        verbose_name_plural = _("shop manufacturers")
        ordering = ["normalized_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(active=False),
                name="ps_manufacturer_removed_is_inactive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"
