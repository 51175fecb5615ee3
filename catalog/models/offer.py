from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from genesys.fields import margin_field, money_field


class ProductSupplierEvent(models.Model):
    """What happened to a product's offers and life cycle, in order: its price/stock history."""

    class Reason(models.TextChoices):
        INIT = "init", _("New offer")
        CHANGE = "change", _("Price or stock changed")
        FEED_MISSING = "feed_missing", _("Missing from the feed")
        EOL_MARKED = "eol_marked", _("Marked end of life")
        EOL_REVERTED = "eol_reverted", _("End of life reverted")
        MANUAL = "manual", _("Manual change")

    # The foreign keys covered by a named index below skip Django's own index: events are the
    # biggest table, and every index is written on every insert. The log is append-only and its
    # writers take every id from the rows they reference in the same statement, so its foreign
    # keys are not checked by the database (``db_constraint=False``: no deferred check per row
    # at every ingest commit); Django's deletes still cascade or null them (docs/architecture.md).
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    supplier = models.ForeignKey(
        "procurement.Supplier",
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    supplier_item = models.ForeignKey(
        "procurement.SupplierItem",
        verbose_name=_("supplier offer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_constraint=False,
    )
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    old_price = money_field(_("old price"), null=True, blank=True)
    new_price = money_field(_("new price"), null=True, blank=True)
    old_stock = models.IntegerField(_("old stock"), null=True, blank=True)
    new_stock = models.IntegerField(_("new stock"), null=True, blank=True)
    run = models.ForeignKey(
        "procurement.FeedRun",
        verbose_name=_("feed run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    note = models.CharField(_("note"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("product event")
        verbose_name_plural = _("product events")
        indexes = [
            models.Index(fields=["product", "-created_at"], name="event_product_time_idx"),
            # End-of-life check: "last time this product had stock" is a max over these rows.
            models.Index(
                fields=["product", "created_at"],
                condition=Q(new_stock__gt=0),
                name="event_product_in_stock_idx",
            ),
            models.Index(fields=["run"], name="event_run_idx"),
            models.Index(fields=["created_at"], name="event_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} #{self.product_id}"


class ProductActiveOffer(models.Model):
    """The elected offer of a product and what was computed to send to the shop."""

    product = models.OneToOneField(
        "catalog.Product",
        verbose_name=_("product"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="active_offer",
    )
    # No database constraint: always the supplier of ``supplier_item``, whose key is checked
    # (docs/architecture.md, "Constraints on the bulk path"); Django's deletes still cascade.
    supplier = models.ForeignKey(
        "procurement.Supplier",
        verbose_name=_("supplier"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    supplier_item = models.ForeignKey(
        "procurement.SupplierItem",
        verbose_name=_("supplier offer"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    unit_cost = money_field(_("landed unit cost"))
    margin_applied = margin_field(_("margin applied"))
    unit_price_sent = money_field(_("unit price sent (net)"))
    stock_sent = models.IntegerField(_("stock sent"))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("active offer")
        verbose_name_plural = _("active offers")
        constraints = [
            models.CheckConstraint(condition=Q(stock_sent__gte=0), name="active_offer_stock_not_negative"),
            models.CheckConstraint(condition=Q(unit_cost__gt=0), name="active_offer_cost_positive"),
            # Never sold below cost. While a new price waits for approval the shop keeps the price
            # it was last sent, which may be below the new cost: stock is then sent as 0.
            models.CheckConstraint(
                condition=Q(unit_price_sent__gte=F("unit_cost")) | Q(stock_sent=0),
                name="active_offer_not_sold_below_cost",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.product_id}: {self.unit_price_sent} x {self.stock_sent}"
