"""API token format, pure functions: ``gsy_<public id>_<secret>``.

The public id (8 characters) finds the row; only the SHA-256 of the whole token is stored. The
secret carries 256 random bits, so a fast hash is enough: nobody can guess their way to a token,
and a copy of the database gives no usable one.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass

TOKEN_PREFIX = "gsy"  # noqa: S105 - a public marker, not a secret
PUBLIC_ID_LENGTH = 8
_PUBLIC_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class TokenParts:
    public_id: str
    digest: str  # SHA-256 of the whole token, hex


def token_generate() -> tuple[str, TokenParts]:
    """A new token (to show once) and what is stored of it."""
    public_id = "".join(secrets.choice(_PUBLIC_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))
    token = f"{TOKEN_PREFIX}_{public_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return token, TokenParts(public_id=public_id, digest=token_digest(token))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_parse(token: str) -> TokenParts | None:
    """The public id and digest of a token as a client sent it; None when it is not one of ours."""
    prefix, _, rest = token.partition("_")
    public_id, _, secret = rest.partition("_")
    if (
        prefix != TOKEN_PREFIX
        or len(public_id) != PUBLIC_ID_LENGTH
        or any(c not in _PUBLIC_ALPHABET for c in public_id)
        or len(secret) < 32
        or not token.isascii()
    ):
        return None
    return TokenParts(public_id=public_id, digest=token_digest(token))


def token_matches(*, parts: TokenParts, stored_digest: str) -> bool:
    """Constant-time comparison of the digests (no timing hint about the stored one)."""
    return secrets.compare_digest(parts.digest, stored_digest)
