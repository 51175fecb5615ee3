"""Errors of the shop clients.

Every error says whether retrying can help (``permanent``) so the sync worker can decide between
"retry later" and "show the operator". Messages are built by the clients from scrubbed parts and
never contain the API key.
"""

from __future__ import annotations


class ShopError(Exception):
    """Base class. ``code`` is the shop's own error code (PrestaShop's 93, r_genesys'
    ``product_not_found``), kept as text so both backends fit."""

    permanent: bool = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | int | None = None,
        permanent: bool | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = "" if code is None else str(code)
        if permanent is not None:
            self.permanent = permanent
        # True when the request may have reached the shop and been applied before it failed
        # (read timeout, 5xx): a non-idempotent create must be reconciled before a retry.
        self.maybe_applied = maybe_applied

    def __str__(self) -> str:
        return self.message


class ShopConfigError(ShopError):
    """The client is not configured (no URL or key); fix the environment."""


class ShopValidationError(ShopError):
    """Input refused before anything was sent (a reference with ``<``, a negative price)."""


class ShopTransientError(ShopError):
    """Retrying later may succeed: connection failures, timeouts, 5xx and 429."""

    permanent = False


class ShopConnectionError(ShopTransientError):
    pass


class ShopTimeoutError(ShopTransientError):
    pass


class ShopServerError(ShopTransientError):
    pass


class ShopRequestError(ShopError):
    """The shop refused the request (4xx, or a 5xx the shop raises for a malformed request)."""


class ShopAuthError(ShopRequestError):
    """401/403: missing or wrong key, or the key lacks a permission."""


class ShopNotFoundError(ShopRequestError):
    pass


class ShopResponseError(ShopError):
    """The shop answered with something that is not its API format: HTML, PHP notices, broken
    XML or JSON. Permanent unless the status is 5xx (a proxy's error page)."""
