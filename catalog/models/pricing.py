from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from genesys.fields import margin_field, money_field

CURRENCY_CODE = RegexValidator(r"^[A-Z]{3}$", _("Use the three capital letters of ISO 4217, e.g. CZK."))
RATE_DIGITS = 20
RATE_PLACES = 10


class PriceApproval(models.Model):
    """A new shop price the price-jump guard held back until an operator decides.

    One pending proposal per product: a newer proposal supersedes it. Meanwhile the shop keeps
    the price it was last sent (``Product.shop_price``); stock and active flag still go through.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    class Reason(models.TextChoices):
        JUMP = "jump", _("Change above the allowed percentage")
        FLOOR = "floor", _("Below the minimum margin over landed cost")
        FIRST_VS_OFFERS = "first_vs_offers", _("First price far from the other offers")

    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE, related_name="price_approvals"
    )
    supplier = models.ForeignKey(
        "procurement.Supplier",
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    supplier_item = models.ForeignKey(
        "procurement.SupplierItem",
        verbose_name=_("supplier offer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="price_approvals",
    )
    run = models.ForeignKey(
        "procurement.FeedRun",
        verbose_name=_("feed run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="price_approvals",
    )
    old_price = money_field(
        _("price in the shop"), null=True, blank=True, help_text=_("Empty: the product was never priced.")
    )
    new_price = money_field(_("proposed price"))
    unit_cost = money_field(_("landed cost"))
    margin_applied = margin_field(_("margin applied"))
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.CharField(_("decided by"), max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, default="")
    applied_at = models.DateTimeField(
        _("sent at"), null=True, blank=True, help_text=_("When the approved price was queued for the shop.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("price waiting for approval")
        verbose_name_plural = _("prices waiting for approval")
        # Deciding needs catalog.approve_prices, defined on Product (genesys.roles grants it).
        constraints = [
            models.UniqueConstraint(
                fields=["product"], condition=Q(status="pending"), name="price_approval_one_pending"
            ),
            models.CheckConstraint(condition=Q(new_price__gt=0), name="price_approval_price_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="price_approval_status_idx"),
            models.Index(fields=["run", "status"], name="price_approval_run_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.product_id}: {self.old_price} → {self.new_price}"

    @property
    def change(self) -> Decimal | None:
        """The relative change (0.5 = +50 %), or None for a first price."""
        if not self.old_price:
            return None
        return self.new_price / self.old_price - 1


class PriceApprovalNotice(models.Model):
    """An email sent about prices waiting for approval: the throttle remembers it."""

    run = models.ForeignKey(
        "procurement.FeedRun",
        verbose_name=_("feed run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pending = models.PositiveIntegerField(_("prices waiting"))
    recipients = models.PositiveIntegerField(_("recipients"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("approval notification")
        verbose_name_plural = _("approval notifications")

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d %H:%M} ({self.pending})"


class CurrencyRate(models.Model):
    """How much one unit of ``currency`` is worth in the shop's currency on ``date``."""

    class Source(models.TextChoices):
        ECB = "ecb", _("European Central Bank")
        MANUAL = "manual", _("Entered by hand")

    date = models.DateField(_("date"))
    currency = models.CharField(_("currency"), max_length=3, validators=[CURRENCY_CODE])
    rate = models.DecimalField(
        _("rate to the shop's currency"),
        max_digits=RATE_DIGITS,
        decimal_places=RATE_PLACES,
        validators=[MinValueValidator(Decimal("0.0000000001"))],
        help_text=_("The value of 1 unit of this currency in the shop's currency, e.g. 0.0395726 for CZK."),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-date", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="currency_rate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="currency_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.date}: {self.rate}"
