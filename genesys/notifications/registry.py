"""Notification kinds: each app declares its own (``<app>/notifications.py``), genesys imports none.

A kind has a code (stored on each notification and subscription), a label operators read, and
optionally the addresses that hear about it unless they chose otherwise (e.g. price approvers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NotificationKind:
    code: str
    label: Any  # a lazy translation
    description: Any = ""
    # Addresses emailed at once by default (users among them may choose otherwise).
    default_recipients: Callable[[], list[str]] = field(default=lambda: [])
    # Hidden kinds (the digest itself) are not offered on the subscriptions page.
    subscribable: bool = True


_KINDS: dict[str, NotificationKind] = {}


def notification_kind_register(
    code: str,
    *,
    label: Any,
    description: Any = "",
    default_recipients: Callable[[], list[str]] | None = None,
    subscribable: bool = True,
) -> NotificationKind:
    """Declare a kind (at import time of the app's ``notifications`` module); idempotent."""
    kind = NotificationKind(
        code=code,
        label=label,
        description=description,
        default_recipients=default_recipients or (lambda: []),
        subscribable=subscribable,
    )
    _KINDS[code] = kind
    return kind


def notification_kind(code: str) -> NotificationKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise LookupError(f"Unknown notification kind {code!r}; known: {', '.join(sorted(_KINDS))}") from None


def notification_kinds(*, subscribable_only: bool = False) -> list[NotificationKind]:
    kinds = sorted(_KINDS.values(), key=lambda kind: kind.code)
    return [kind for kind in kinds if kind.subscribable or not subscribable_only]
