"""Creating, revoking and touching API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from api.models import ApiToken
from api.tokens import token_generate


def api_token_create(
    *, user, name: str, expires_at: datetime | None = None, by: str = ""
) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row, and the token itself, to be shown once and never again.

    Only the token's hash is stored; a clash of the random public id (one in trillions) draws
    another one.
    """
    for _attempt in range(5):
        token, parts = token_generate()
        try:
            with transaction.atomic():
                row = ApiToken.objects.create(
                    user=user,
                    name=name.strip()[:100],
                    public_id=parts.public_id,
                    secret_hash=parts.digest,
                    expires_at=expires_at,
                    created_by=by[:150],
                )
        except IntegrityError:
            continue
        return row, token
    raise RuntimeError("could not draw a free token id")


def api_token_expiry(*, days: int | None, now: datetime | None = None) -> datetime | None:
    """The expiry ``days`` from now (None: never)."""
    if days is None:
        return None
    if days < 1:
        raise ValueError("days must be at least 1")
    return (now or timezone.now()) + timedelta(days=days)


def api_tokens_revoke(*, token_ids: Iterable[int], by: str) -> int:
    """Revoke these tokens (those not revoked already); returns how many were revoked."""
    return ApiToken.objects.filter(pk__in=list(token_ids), revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by[:150]
    )


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> bool:
    """Record that the token was used, at most once every ``API_TOKEN_TOUCH_SECONDS``: a client
    polling a run's log every second does not write a row every second."""
    now = now or timezone.now()
    every = timedelta(seconds=settings.API_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is not None and now - token.last_used_at < every:
        return False
    updated = ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - every), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
    return bool(updated)
