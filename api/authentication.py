"""Who is calling: an API token (``Authorization: Bearer <token>`` or ``Token <token>``), or the
session of a staff user logged in to the admin (with CSRF, for the browsable pages)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from api.selectors import api_token_authenticate
from api.services.tokens import api_token_touch

KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() not in KEYWORDS:
            return None  # no token: perhaps a session
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: give the token after “Bearer ” with no spaces in it.")
            )
        try:
            raw = words[1].decode("ascii")
        except UnicodeDecodeError:
            raw = ""
        token = api_token_authenticate(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked API token."))
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


class StaffSessionAuthentication(SessionAuthentication):
    """The admin's session, under the admin's own rule: a user who enrolled a two-factor device
    counts only once the session was verified with it."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        user = getattr(request._request, "user", None)
        if user is not None and user.is_authenticated and user_has_device(user, confirmed=True):
            if not getattr(user, "is_verified", lambda: False)():
                return None
        return super().authenticate(request)
