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


def shop_error_for_status(
    message: str,
    *,
    status: int,
    code: str = "",
    permanent_codes: frozenset[str] | set[str] = frozenset(),
) -> ShopError:
    """The one status -> error ladder of both shop clients.

    401/403: auth; 404: not found; 5xx and 429: transient (a server error the shop raises for a
    malformed request — its ``code`` in ``permanent_codes`` — is a refusal instead); anything else
    a refusal. A 429 or 503 was not processed, so a create may safely retry; another 5xx may have
    been applied before it failed (``maybe_applied``).
    """
    if status in (401, 403):
        return ShopAuthError(message, status=status, code=code)
    if status == 404:
        return ShopNotFoundError(message, status=status, code=code)
    if (status >= 500 or status == 429) and code not in permanent_codes:
        return ShopServerError(message, status=status, code=code, maybe_applied=status not in (429, 503))
    return ShopRequestError(message, status=status, code=code)


def attempts_note(attempts: int) -> str:
    """ " after 3 attempts" for an error message, or nothing for a first try."""
    return f" after {attempts} attempts" if attempts > 1 else ""
