"""API tokens: a user's key for the JSON API; only a hash of each is kept."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token that acts as its user: the API checks that user's staff flag and permissions
    on every request. Shown once when created; revoked, it can never be used again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text=_("The token acts as this user, with this user's permissions."),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_('What uses it, e.g. "ERP price export" or "deploy script".')
    )
    public_id = models.CharField(_("token id"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(_("secret hash (SHA-256)"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.CharField(_("created by"), max_length=150, blank=True, default="", editable=False)
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: the token does not expire.")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.CharField(_("revoked by"), max_length=150, blank=True, default="", editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    # Not a field: the admin sets the plaintext token on the row it has just created, for the page
    # after saving to show it once; it only ever lives in that request's memory.
    plaintext_once: str | None = None

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} (gsy_{self.public_id}_…)"

    def state(self, now: datetime | None = None) -> str:
        """ "active", "expired" or "revoked"."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"
