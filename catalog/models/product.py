from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.normalize import partnumber_normalize
from genesys.fields import margin_field, money_field


class Product(models.Model):
    """The canonical product: one per real-world item, whatever the number of suppliers."""

    gtin = models.CharField(
        _("GTIN"),
        max_length=14,
        null=True,
        blank=True,
        help_text=_("14 digits, zero-padded (EAN-13 and UPC-A forms of a number are the same product)."),
    )
    brand = models.ForeignKey(
        "catalog.Brand",
        verbose_name=_("brand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        db_index=False,  # product_brand_pn_idx leads with the brand
    )
    partnumber = models.CharField(_("part number"), max_length=100, blank=True, default="")
    partnumber_normalized = models.CharField(
        _("normalised part number"),
        max_length=100,
        blank=True,
        default="",
        editable=False,
    )
    variant = models.CharField(
        _("identity variant"),
        max_length=300,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text=_(
            "Set when an operator split an identity conflict: one supplier SKU that shares a brand "
            "and part number with other products but is a product of its own."
        ),
    )
    name = models.CharField(_("name"), max_length=255, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    image_url = models.URLField(_("image URL"), max_length=1000, blank=True, default="")
    weight = models.DecimalField(_("weight (kg)"), max_digits=10, decimal_places=3, null=True, blank=True)
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
        db_index=False,  # product_category_idx
    )
    margin = margin_field(
        _("margin"),
        null=True,
        blank=True,
        help_text=_("Fraction: 0.25 = 25 %. Empty: use the category's, then the supplier's margin."),
    )
    is_enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Disabled products are set inactive in the shop.")
    )
    is_eol = models.BooleanField(_("end of life"), default=False)
    id_ecommerce = models.PositiveIntegerField(
        _("shop product id"),
        null=True,
        blank=True,
        help_text=_("The PrestaShop product id, once the product exists in the shop."),
    )
    # What the shop was last told the price is; kept when the active offer goes away, so that a
    # returning offer is checked against it by the price-jump guard (not taken as a first price).
    shop_price = money_field(
        _("price in the shop"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The last net price sent to the shop."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        permissions = [
            # The price-approval queue (prices held for a person) checks this one.
            ("approve_prices", _("Can approve held prices")),
            # The product list's bulk actions (catalog/admin_actions.py), one power each.
            ("enable_products", _("Can enable and disable products in bulk")),
            ("set_product_margins", _("Can set the margin of products in bulk")),
            ("mark_products_eol", _("Can mark products end of life, and back, in bulk")),
            ("resync_products", _("Can send products to the shop again")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["gtin"],
                condition=Q(gtin__isnull=False),
                name="product_unique_gtin",
                violation_error_message=_("Another product already has this GTIN."),
            ),
            models.UniqueConstraint(
                fields=["brand", "partnumber_normalized", "variant"],
                condition=Q(gtin__isnull=True) & Q(brand__isnull=False) & ~Q(partnumber_normalized=""),
                name="product_unique_brand_partnumber_without_gtin",
                violation_error_message=_("Another product without GTIN has this brand and part number."),
            ),
            # Partial: most products are not in the shop, and every first ingest would otherwise
            # add an index entry (and the settle another) for each one's NULL.
            models.UniqueConstraint(
                fields=["id_ecommerce"],
                condition=Q(id_ecommerce__isnull=False),
                name="product_unique_id_ecommerce",
                violation_error_message=_("Another product is already linked to this shop product."),
            ),
            models.CheckConstraint(
                condition=Q(gtin__isnull=True) | Q(gtin__regex=r"^[0-9]{14}$"),
                name="product_gtin_14_digits",
            ),
            models.CheckConstraint(
                condition=Q(gtin__isnull=False) | (Q(brand__isnull=False) & ~Q(partnumber_normalized="")),
                name="product_has_identity",
                violation_error_message=_("A product needs a GTIN, or a brand and a part number."),
            ),
            models.CheckConstraint(
                condition=Q(margin__isnull=True) | Q(margin__gte=0), name="product_margin_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | Q(weight__gte=0), name="product_weight_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["brand", "partnumber_normalized"], name="product_brand_pn_idx"),
            models.Index(fields=["is_eol", "created_at"], name="product_eol_created_idx"),
            models.Index(fields=["category"], name="product_category_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.partnumber or self.gtin or f"#{self.pk}"

    def save(self, *args, **kwargs) -> None:
        # Derived key; bulk writers (ingest) compute it with the same function.
        self.partnumber_normalized = partnumber_normalize(self.partnumber)
        if not self.gtin:
            self.gtin = None
        super().save(*args, **kwargs)


class ProductMeta(models.Model):
    """Supplier fields with no canonical home (energy class, colour, warranty…)."""

    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="meta",
        db_index=False,  # the (product, key) unique constraint leads with the product
        # Written only by the ingest's merge, which takes the id from the product it just
        # resolved; Django's deletes cascade (docs/architecture.md): no deferred check per row.
        db_constraint=False,
    )
    key = models.CharField(_("key"), max_length=100)
    value = models.TextField(_("value"), blank=True, default="")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product attribute")
        verbose_name_plural = _("product attributes")
        constraints = [
            models.UniqueConstraint(fields=["product", "key"], name="product_meta_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class DirtyProduct(models.Model):
    """A product whose offers changed and whose catalog state (election, price, stream) has not
    been recomputed since: the durable intent of the catalog step.

    An ingest marks products here in the same transaction as the chunk that changed their
    offers, so the intent survives any crash; the recompute deletes a mark in the transaction
    that applies it (only if no newer mark replaced it meanwhile: ``version``). The ingest's
    final step, its retry and the periodic sweep all drain this set.
    """

    # No database constraint: a mark whose product is gone is staged, joins no product and is
    # deleted by the drain like any other (docs/architecture.md, "Constraints on the bulk path");
    # Django's deletes still cascade.
    product = models.OneToOneField(
        Product,
        verbose_name=_("product"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    version = models.BigIntegerField(_("version"), default=1, db_default=1)
    marked_at = models.DateTimeField(_("marked at"), default=timezone.now, db_default=Now())
    # The feed run whose chunk last marked the product (informational: runs are pruned).
    run_id = models.BigIntegerField(_("feed run"), null=True, blank=True)

    class Meta:
        verbose_name = _("product awaiting recompute")
        verbose_name_plural = _("products awaiting recompute")

    def __str__(self) -> str:
        return str(self.product_id)
