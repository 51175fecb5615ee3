"""Webhook signatures: HMAC-SHA256 over the timestamp and the raw JSON body.

A receiver recomputes ``hex(hmac_sha256(secret, f"{timestamp}.{body}"))`` and compares it with the
``X-Genesys-Signature`` header (``sha256=<hex>``) in constant time, and refuses timestamps too old
(a replayed request).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Genesys-Signature"
TIMESTAMP_HEADER = "X-Genesys-Timestamp"
DELIVERY_HEADER = "X-Genesys-Delivery"


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_signature_valid(*, secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, signature or "")
