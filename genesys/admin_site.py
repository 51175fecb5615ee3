"""The admin site: the Django admin, plus a one-time code at login for staff who enrolled a device.

Two-factor is optional per user (django-otp, TOTP): a user with a confirmed TOTP device must give
its current code with the password, and a session that was not verified with that device is not
let into the admin. Users without a device log in with the password alone (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django_otp import devices_for_user, user_has_device
from django_otp.admin import OTPAdminAuthenticationForm


class GenesysLoginForm(OTPAdminAuthenticationForm):
    """Password first; the code is asked for (and checked) only when the user has a device."""

    def clean(self) -> dict[str, Any]:
        cleaned = super(OTPAdminAuthenticationForm, self).clean()  # the password check
        user = self.get_user()
        if user is not None and user_has_device(user, confirmed=True):
            self.clean_otp(user)
        return cleaned

    def _chosen_device(self, user: Any) -> Any:
        """The device picked in the form, or the user's only confirmed one (the usual case)."""
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = devices[0]
        return device


class GenesysAdminSite(AdminSite):
    login_form = GenesysLoginForm
    login_template = "genesys/admin_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        if user_has_device(user, confirmed=True):
            return bool(getattr(user, "is_verified", lambda: False)())
        return True
