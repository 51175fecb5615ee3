"""Sending notifications: one record, one delivery per channel, delivered after commit by RQ.

``notification_send`` is the one function every part of Genesys calls. It never raises for a
delivery problem and never does network I/O: it records the notification (throttled when one of
the same kind and object went out within ``GENESYS_NOTIFY_THROTTLE_MINUTES``) and its deliveries
in a transaction, and once that commits (the caller's own transaction, if any) each delivery is
a job on the ``notify`` queue. A failed attempt is recorded and retried after the delays of
``GENESYS_NOTIFY_RETRY_SECONDS``; after the last it is failed for good.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import django_rq
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from genesys.db import connections_refresh, transaction_mutex
from genesys.models import Notification, NotificationDelivery, NotificationSubscription
from genesys.notifications.registry import NotificationKind, notification_kind
from genesys.notifications.signing import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    webhook_signature,
)
from genesys.outbound import outbound_session, text_excerpt

logger = logging.getLogger(__name__)

QUEUE = "notify"
ATTEMPT = "genesys.notifications.services.notification_delivery_attempt"
Channel = NotificationDelivery.Channel
Status = NotificationDelivery.Status
Choice = NotificationSubscription.Channel
ERROR_MAX = 2000


class WebhookRefused(Exception):
    """The webhook answered with a status other than 2xx."""


def notification_send(
    *, kind: str, subject: str, body: str, link: str = "", object_key: str = ""
) -> Notification | None:
    """Tell whoever subscribed to ``kind`` (and the webhook); None if it could not be recorded.

    ``link`` is an admin path ("/admin/...") made absolute with ``GENESYS_ADMIN_BASE_URL``;
    ``object_key`` names what it is about ("supplier_ingest:3"): one notification per kind and
    object per throttle window. An unknown kind is a programming error and raises LookupError.
    """
    spec = notification_kind(kind)
    try:
        return _record(spec=spec, subject=str(subject), body=str(body), link=link, object_key=object_key)
    except Exception:
        logger.exception("Could not record the %s notification %r", kind, str(subject)[:100])
        return None


def _record(*, spec: NotificationKind, subject: str, body: str, link: str, object_key: str) -> Notification:
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            transaction_mutex(name=f"genesys:notify:{spec.code}:{object_key}", cursor=cursor)
        throttled = _throttled(kind=spec.code, object_key=object_key, now=now)
        notification = Notification.objects.create(
            kind=spec.code,
            subject=subject[:200],
            body=body,
            link=link[:500],
            object_key=object_key[:200],
            throttled=throttled,
            created_at=now,
        )
        deliveries = [] if throttled else _deliveries_create(notification=notification, spec=spec)
    for delivery in deliveries:
        transaction.on_commit(partial(delivery_enqueue, delivery_id=delivery.pk, attempt=1))
    return notification


def _throttled(*, kind: str, object_key: str, now) -> bool:
    minutes = settings.GENESYS_NOTIFY_THROTTLE_MINUTES
    if minutes <= 0:
        return False
    return Notification.objects.filter(
        kind=kind, object_key=object_key, throttled=False, created_at__gt=now - timedelta(minutes=minutes)
    ).exists()


def notification_recipients(*, spec: NotificationKind) -> list[str]:
    """Addresses emailed at once: subscribers, then ADMINS and the kind's defaults who chose nothing."""
    chosen: dict[str, str] = {}
    immediate: list[str] = []
    subscriptions = NotificationSubscription.objects.filter(kind=spec.code, user__is_active=True).values_list(
        "user__email", "channel"
    )
    for email, channel in subscriptions:
        if not email:
            continue
        chosen[str(email).lower()] = channel
        if channel == Choice.EMAIL:
            immediate.append(email)
    defaults: list[str] = [str(address) for _name, address in settings.ADMINS]
    defaults += [str(address) for address in spec.default_recipients()]
    immediate += [address for address in defaults if address and address.lower() not in chosen]
    return list(dict.fromkeys(immediate))


def _deliveries_create(*, notification: Notification, spec: NotificationKind) -> list[NotificationDelivery]:
    now = timezone.now()
    deliveries = []
    recipients = notification_recipients(spec=spec)
    if recipients:
        deliveries.append(NotificationDelivery(notification=notification, channel=Channel.EMAIL,
                                               recipients=recipients, next_attempt_at=now))  # fmt: skip
    if webhook_wanted(kind=spec.code):
        deliveries.append(
            NotificationDelivery(
                notification=notification,
                channel=Channel.WEBHOOK,
                target=webhook_target(settings.GENESYS_NOTIFY_WEBHOOK_URL),
                next_attempt_at=now,
            )
        )
    return NotificationDelivery.objects.bulk_create(deliveries)


def webhook_wanted(*, kind: str) -> bool:
    kinds = settings.GENESYS_NOTIFY_WEBHOOK_KINDS
    return bool(settings.GENESYS_NOTIFY_WEBHOOK_URL) and (not kinds or kind in kinds)


def webhook_target(url: str) -> str:
    """The URL without its query string or credentials (either may hold a token): what is shown."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"[
        :300
    ]


def delivery_enqueue(*, delivery_id: int, attempt: int, delay_seconds: int = 0) -> bool:
    """Put one attempt of a delivery on the notify queue; False if Redis refused (logged)."""
    queue = django_rq.get_queue(QUEUE, commit_mode="auto")
    options = {
        "job_timeout": settings.GENESYS_NOTIFY_WEBHOOK_TIMEOUT * 3 + 30,
        "result_ttl": 3600,
        "failure_ttl": settings.RQ_FAILURE_TTL,
        "description": f"notification delivery {delivery_id}, attempt {attempt}",
    }
    try:
        if delay_seconds > 0:
            queue.enqueue_in(timedelta(seconds=delay_seconds), ATTEMPT, delivery_id, attempt, **options)
        else:
            queue.enqueue(ATTEMPT, delivery_id, attempt, **options)
    except Exception:
        logger.exception("Could not queue notification delivery %s; the tick resubmits it", delivery_id)
        return False
    return True


def notification_delivery_attempt(delivery_id: int, attempt: int) -> dict[str, Any]:
    """The RQ job: one attempt of one delivery, recorded; never raises to RQ.

    The attempt number is claimed first (a compare-and-set on ``attempts``), so a duplicated job
    (a resubmission racing the original) sends nothing twice.
    """
    connections_refresh()
    try:
        return _attempt(delivery_id=delivery_id, attempt=attempt)
    finally:
        connections_refresh()


def _attempt(*, delivery_id: int, attempt: int) -> dict[str, Any]:
    claimed = NotificationDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, attempts=attempt - 1
    ).update(attempts=attempt, next_attempt_at=None)
    if not claimed:
        return {"ignored": f"delivery {delivery_id} attempt {attempt} is not due"}
    delivery = NotificationDelivery.objects.select_related("notification").get(pk=delivery_id)
    try:
        if delivery.channel == Channel.EMAIL:
            _email_send(delivery)
        else:
            _webhook_post(delivery)
    except Exception as exc:
        return _attempt_failed(delivery=delivery, attempt=attempt, error=_error_text(exc))
    NotificationDelivery.objects.filter(pk=delivery_id).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return {"sent": delivery_id, "attempt": attempt}


def _attempt_failed(*, delivery: NotificationDelivery, attempt: int, error: str) -> dict[str, Any]:
    delays: list[int] = list(settings.GENESYS_NOTIFY_RETRY_SECONDS)
    logger.warning("Notification delivery %s (%s) failed on attempt %s: %s", delivery.pk,
                   delivery.channel, attempt, error)  # fmt: skip
    if attempt > len(delays):
        NotificationDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED, last_error=error)
        return {"failed": delivery.pk, "attempt": attempt}
    delay = delays[attempt - 1]
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        last_error=error, next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )
    delivery_enqueue(delivery_id=delivery.pk, attempt=attempt + 1, delay_seconds=delay)
    return {"retry": delivery.pk, "attempt": attempt + 1, "in_seconds": delay}


def absolute_link(link: str) -> str:
    if link.startswith("/"):
        return settings.GENESYS_ADMIN_BASE_URL.rstrip("/") + link
    return link


def _email_send(delivery: NotificationDelivery) -> None:
    notification = delivery.notification
    body = notification.body
    if notification.link:
        body = f"{body}\n\n{absolute_link(notification.link)}\n"
    EmailMessage(f"Genesys: {notification.subject}", body, None, list(delivery.recipients)).send()


def webhook_payload(notification: Notification, *, delivery_id: int) -> bytes:
    return json.dumps(
        {
            "id": notification.pk,
            "delivery": delivery_id,
            "kind": notification.kind,
            "subject": notification.subject,
            "body": notification.body,
            "link": absolute_link(notification.link),
            "object_key": notification.object_key,
            "created_at": notification.created_at.isoformat(),
        },
        sort_keys=True,
    ).encode()


def _webhook_post(delivery: NotificationDelivery) -> None:
    url = settings.GENESYS_NOTIFY_WEBHOOK_URL
    if not url:
        raise WebhookRefused(_("GENESYS_NOTIFY_WEBHOOK_URL is no longer set"))
    body = webhook_payload(delivery.notification, delivery_id=delivery.pk)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Genesys-notifications",
        TIMESTAMP_HEADER: timestamp,
        DELIVERY_HEADER: str(delivery.pk),
        SIGNATURE_HEADER: webhook_signature(
            secret=settings.GENESYS_NOTIFY_WEBHOOK_SECRET, timestamp=timestamp, body=body
        ),
    }
    timeout = settings.GENESYS_NOTIFY_WEBHOOK_TIMEOUT
    with outbound_session() as session:
        response = session.post(
            url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False
        )
    if not 200 <= response.status_code < 300:
        raise WebhookRefused(
            _("the webhook answered HTTP %(status)s: %(text)s")
            % {"status": response.status_code, "text": text_excerpt(response.content)}
        )


def _error_text(exc: BaseException) -> str:
    """What failed, for the delivery record: never the secret, nor the URL's query string."""
    text = f"{type(exc).__name__}: {exc}"
    url = settings.GENESYS_NOTIFY_WEBHOOK_URL
    if url:
        text = text.replace(url, webhook_target(url))
        query = urlsplit(url).query
        if query:
            text = text.replace(query, "***")
    secret = settings.GENESYS_NOTIFY_WEBHOOK_SECRET
    if secret:
        text = text.replace(secret, "***")
    return text[:ERROR_MAX]


def notification_deliveries_resubmit(*, older_than_seconds: int = 600) -> int:
    """Queue again the pending deliveries whose attempt is long overdue (Redis refused the job).

    Safe against a job that was merely slow: the attempt's claim sends nothing twice.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stuck = list(
        NotificationDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lt=cutoff)
        .order_by("id")
        .values_list("id", "attempts")[:500]
    )
    for delivery_id, attempts in stuck:
        NotificationDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
        delivery_enqueue(delivery_id=delivery_id, attempt=attempts + 1)
    return len(stuck)


def subscriptions_for_user(*, user: Any) -> dict[str, str]:
    return dict(NotificationSubscription.objects.filter(user=user).values_list("kind", "channel"))


def subscriptions_save(*, user: Any, choices: dict[str, str]) -> int:
    """Store a user's channel per kind; returns how many changed."""
    current = subscriptions_for_user(user=user)
    changed = 0
    with transaction.atomic():
        for kind, channel in choices.items():
            if current.get(kind) == channel:
                continue
            NotificationSubscription.objects.update_or_create(
                user=user, kind=kind, defaults={"channel": channel}
            )
            changed += 1
    return changed


def users_with_digest() -> dict[Any, list[str]]:
    """Active users with an email who chose the daily digest for some kinds: user -> kinds."""
    result: dict[Any, list[str]] = {}
    rows = (
        NotificationSubscription.objects.filter(channel=Choice.DIGEST, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id", "kind")
    )
    for subscription in rows:
        result.setdefault(subscription.user, []).append(subscription.kind)
    return result


def deliveries_retry(*, delivery_ids: list[int]) -> int:
    """Send failed deliveries again from their first attempt (after commit); returns how many."""
    with transaction.atomic():
        ids = list(
            NotificationDelivery.objects.filter(id__any_of=delivery_ids, status=Status.FAILED)
            .select_for_update()
            .values_list("id", flat=True)
        )
        NotificationDelivery.objects.filter(id__any_of=ids).update(
            status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
    for delivery_id in ids:
        transaction.on_commit(partial(delivery_enqueue, delivery_id=delivery_id, attempt=1))
    return len(ids)
