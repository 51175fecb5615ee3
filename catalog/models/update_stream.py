from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_SHOP = "prestashop"


class CatalogUpdateStream(models.Model):
    """Outbox of product state changes for a shop; the sync worker drains it.

    At most one *pending* row per product and shop (a partial unique index): a newer change merges
    into it, so the shop only ever receives the latest state.
    """

    class EventType(models.TextChoices):
        PRODUCT_STATE_CHANGED = "product_state_changed", _("Product state changed")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Reason(models.TextChoices):
        """Why a product's shop state is being updated; a pending row accumulates them."""

        INGEST = "ingest_supplier", _("Supplier ingest")
        MARGIN_CHANGED = "margin_changed", _("Margin changed")
        EOL_MARKED = "eol_marked", _("Marked end of life")
        EOL_REVERTED = "eol_reverted", _("End of life reverted")
        SUPPLIER_DISABLED = "supplier_disabled", _("Supplier disabled")
        SUPPLIER_ENABLED = "supplier_enabled", _("Supplier enabled")
        PRODUCT_DISABLED = "product_disabled", _("Product disabled")
        PRODUCT_ENABLED = "product_enabled", _("Product enabled")
        MANUAL = "manual", _("Manual change")
        RESYNC = "resync", _("Resync requested")
        AUTO_IMPORTED = "auto_imported", _("Created in the shop by auto-import")
        PRICE_APPROVED = "price_approved", _("Price approved")
        PRICE_REJECTED = "price_rejected", _("Price rejected")

    class Priority(models.IntegerChoices):
        OTHER = 0, _("Other change")
        PRICE = 10, _("Price change")
        SOLD_OUT = 20, _("Sold out")
        BACK_IN_STOCK = 30, _("Back in stock")

    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="stream_rows",
    )
    shop = models.CharField(_("shop"), max_length=50, default=DEFAULT_SHOP)
    event_type = models.CharField(
        _("event type"),
        max_length=40,
        choices=EventType.choices,
        default=EventType.PRODUCT_STATE_CHANGED,
    )
    payload = models.JSONField(_("payload"), default=dict)
    reasons = models.JSONField(_("reasons"), default=list)
    priority = models.SmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.OTHER)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    locked_until = models.DateTimeField(
        _("lease until"),
        null=True,
        blank=True,
        help_text=_("A worker holds the row until then; afterwards it returns to pending."),
    )
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("catalog update")
        verbose_name_plural = _("catalog update stream")
        permissions = [("retry_catalogupdatestream", _("Can send failed shop updates again"))]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "shop"],
                condition=Q(status="pending"),
                name="stream_one_pending_per_product_shop",
            ),
        ]
        indexes = [
            models.Index(
                fields=["-priority", "created_at"],
                condition=Q(status="pending"),
                name="stream_pending_priority_idx",
            ),
            models.Index(fields=["status", "updated_at"], name="stream_status_updated_idx"),
            models.Index(
                fields=["locked_until"],
                condition=Q(status="processing"),
                name="stream_processing_lease_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} #{self.product_id} ({self.get_status_display()})"


class StreamBacklogSample(models.Model):
    """The stream's backlog at one moment, recorded every few minutes by the periodic tick
    (catalog.services.backlog) for the home page's 24-hour chart; kept two days."""

    taken_at = models.DateTimeField(_("taken at"), default=timezone.now, db_index=True)
    pending = models.PositiveIntegerField(_("pending"))
    failed = models.PositiveIntegerField(_("parked (failed)"))
    processing = models.PositiveIntegerField(_("processing"))
    oldest_pending_age_s = models.PositiveIntegerField(_("oldest pending (s)"), default=0)

    class Meta:
        verbose_name = _("stream backlog sample")
        verbose_name_plural = _("stream backlog samples")

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M}: {self.pending}"
