from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.normalize import display_name_clean, name_normalize
from genesys.fields import margin_field

CATEGORY_PATH_SEPARATOR = " > "


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=120)
    normalized_name = models.CharField(
        _("normalised name"),
        max_length=120,
        unique=True,
        editable=False,
        help_text=_("Case, accents and spaces folded; brands are unique by this."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["normalized_name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Derived key kept next to the value it derives from; bulk writers set it themselves.
        self.name = display_name_clean(self.name)
        self.normalized_name = name_normalize(self.name)
        super().save(*args, **kwargs)


class Category(models.Model):
    """A node of Genesys' own category tree, optionally mapped to a shop category."""

    name = models.CharField(_("name"), max_length=120)
    normalized_name = models.CharField(_("normalised name"), max_length=120, editable=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    full_path = models.CharField(
        _("full path"),
        max_length=1000,
        editable=False,
        db_index=True,
        help_text=_('Names from the root, e.g. "Informática > Portáteis".'),
    )
    id_ps_category = models.PositiveIntegerField(
        _("shop category id"),
        null=True,
        blank=True,
        help_text=_("The PrestaShop category products of this category are created in."),
    )
    ps_category_name = models.CharField(_("shop category name"), max_length=255, blank=True)
    auto_import = models.BooleanField(
        _("auto-import"),
        default=False,
        help_text=_("Create new products of this category in the shop (disabled) automatically."),
    )
    margin = margin_field(
        _("margin"),
        null=True,
        blank=True,
        help_text=_("Fraction: 0.25 = 25 %. Empty: use the supplier's margin."),
    )
    price_change_limit = margin_field(
        _("price-jump limit"),
        null=True,
        blank=True,
        help_text=_(
            "Fraction: 0.40 = a new price more than 40 % above or below the price in the shop waits "
            "for approval. Empty: the parent category's, else the global setting."
        ),
    )
    min_margin = margin_field(
        _("minimum margin"),
        null=True,
        blank=True,
        help_text=_(
            "Fraction over landed cost: a price below cost x (1 + this) waits for approval. "
            "Empty: the parent category's, else the global setting."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["full_path"]
        constraints = [
            models.UniqueConstraint(
                fields=["normalized_name"],
                condition=Q(parent__isnull=True),
                name="category_unique_root_name",
            ),
            models.UniqueConstraint(
                fields=["parent", "normalized_name"],
                condition=Q(parent__isnull=False),
                name="category_unique_name_per_parent",
            ),
            models.CheckConstraint(
                condition=Q(margin__isnull=True) | Q(margin__gte=0), name="category_margin_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(price_change_limit__isnull=True) | Q(price_change_limit__gt=0),
                name="category_price_change_limit_positive",
            ),
            models.CheckConstraint(
                condition=Q(min_margin__isnull=True) | Q(min_margin__gte=0),
                name="category_min_margin_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(auto_import=False) | Q(id_ps_category__isnull=False),
                name="category_auto_import_needs_shop_category",
                violation_error_message=_("Map the category to a shop category before enabling auto-import."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_path or self.name

    def save(self, *args, **kwargs) -> None:
        # full_path is derived from the parent's; renames of a parent are propagated by
        # catalog.services.categories.category_refresh_paths.
        self.name = display_name_clean(self.name)
        self.normalized_name = name_normalize(self.name)
        parent = self.parent if self.parent_id else None
        prefix = f"{parent.full_path}{CATEGORY_PATH_SEPARATOR}" if parent is not None else ""
        self.full_path = f"{prefix}{self.name}"
        super().save(*args, **kwargs)
