"""The daily digest: one email per user listing what happened in the kinds they chose "digest" for.

A job kind (``notification_digest``, daily at 07:00 UTC by default, changeable in the admin). It
is idempotent per user and day: the digest is itself a notification (kind ``digest``, object
``digest:<user>:<date>``) delivered like any other, and a second run the same day finds it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from genesys.jobs.context import JobContext
from genesys.jobs.registry import KindDefaults, job_kind
from genesys.models import JobKind, Notification, NotificationDelivery
from genesys.notifications.registry import notification_kind
from genesys.notifications.services import absolute_link, delivery_enqueue, users_with_digest

DIGEST_KIND = "digest"
ITEMS_PER_KIND = 20
WINDOW = timedelta(hours=24)


def notification_digests_send(*, now: datetime | None = None) -> dict[str, int]:
    """Send today's digest to every user who has one due; returns counts."""
    now = now or timezone.now()
    wanted = users_with_digest()
    kinds = sorted({kind for user_kinds in wanted.values() for kind in user_kinds})
    by_kind: dict[str, list[Notification]] = defaultdict(list)
    for notification in Notification.objects.filter(
        kind__in=kinds, created_at__gte=now - WINDOW, created_at__lt=now
    ).order_by("created_at")[:10_000]:
        by_kind[notification.kind].append(notification)
    sent = empty = already = 0
    day = timezone.localdate(now).isoformat()
    done = set(
        Notification.objects.filter(kind=DIGEST_KIND, object_key__endswith=f":{day}").values_list(
            "object_key", flat=True
        )
    )
    for user, user_kinds in wanted.items():
        key = f"digest:{user.pk}:{day}"
        if key in done:
            already += 1
            continue
        sections = [(code, by_kind[code]) for code in user_kinds if by_kind.get(code)]
        if not sections:
            empty += 1
            continue
        _digest_record(email=user.email, key=key, sections=sections, now=now)
        sent += 1
    return {"sent": sent, "nothing_to_tell": empty, "already_sent": already}


def _digest_record(
    *, email: str, key: str, sections: list[tuple[str, list[Notification]]], now: datetime
) -> None:
    total = sum(len(items) for _code, items in sections)
    subject = ngettext(
        "Daily digest: %(count)d notification", "Daily digest: %(count)d notifications", total
    ) % {"count": total}
    with transaction.atomic():
        notification = Notification.objects.create(
            kind=DIGEST_KIND,
            subject=subject,
            body=digest_body(sections=sections),
            object_key=key,
            created_at=now,
        )
        delivery = NotificationDelivery.objects.create(
            notification=notification, channel=NotificationDelivery.Channel.EMAIL, recipients=[email],
            next_attempt_at=now,
        )  # fmt: skip
    transaction.on_commit(partial(delivery_enqueue, delivery_id=delivery.pk, attempt=1))


def digest_body(*, sections: list[tuple[str, list[Notification]]]) -> str:
    lines = [_("What Genesys told in the last 24 hours:"), ""]
    for code, items in sections:
        label = str(notification_kind(code).label)
        lines.append(f"{label} ({len(items)})")
        for item in items[-ITEMS_PER_KIND:]:
            when = timezone.localtime(item.created_at).strftime("%Y-%m-%d %H:%M")
            link = f" — {absolute_link(item.link)}" if item.link else ""
            lines.append(f"  {when}  {item.subject}{link}")
        if len(items) > ITEMS_PER_KIND:
            lines.append("  " + _("… and %(count)d earlier") % {"count": len(items) - ITEMS_PER_KIND})
        lines.append("")
    return "\n".join(lines)


@job_kind(
    JobKind.NOTIFICATION_DIGEST,
    queue="notify",
    defaults=KindDefaults(retry_attempts=2, retry_backoff_seconds=(300, 900), timeout_seconds=600,
                          stale_after_seconds=1800, schedule="0 7 * * *"),
)  # fmt: skip
def notification_digest(ctx: JobContext) -> dict:
    summary = notification_digests_send()
    ctx.progress(_("digests: %(sent)s sent, %(empty)s with nothing to tell") % {"sent": summary["sent"],
                 "empty": summary["nothing_to_tell"]})  # fmt: skip
    return summary
