"""Reads of the API's own records (tokens)."""

from __future__ import annotations

from django.utils import timezone

from api.models import ApiToken
from api.tokens import token_matches, token_parse


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The usable token a client sent (with its user loaded), or None.

    None for anything that is not a token of ours, an unknown id, a wrong secret, a revoked or
    expired token and an inactive user: the caller answers all of them alike (401).
    """
    parts = token_parse(raw)
    if parts is None:
        return None
    token = ApiToken.objects.select_related("user").filter(public_id=parts.public_id).first()
    if token is None or not token_matches(parts=parts, stored_digest=token.secret_hash):
        return None
    if token.state(timezone.now()) != "active" or not token.user.is_active:
        return None
    return token
