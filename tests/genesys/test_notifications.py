"""Notifications: recorded by ``notification_send``, delivered after commit by the notify queue.

Email goes through Django's locmem backend (pytest-django's default), the webhook to a real
HTTP server on loopback, the deliveries run in a real RQ worker on the test Redis.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from genesys.jobs.ledger import kind_config_get
from genesys.jobs.runner import run_failed_notify
from genesys.models import JobKindConfig, JobRun, Notification, NotificationDelivery, NotificationSubscription
from genesys.notifications import notification_send
from genesys.notifications.digest import notification_digests_send
from genesys.notifications.services import deliveries_retry, notification_deliveries_resubmit
from genesys.notifications.signing import webhook_signature, webhook_signature_valid
from tests.factories import JobRunFactory, NotificationSubscriptionFactory, UserFactory
from tests.support.jobs import TEST_KIND, jobs_due_now, jobs_work
from tests.support.jobs import test_kind_register as kind_register
from tests.support.webhook_server import webhook_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret-for-tests-0123456789"
Status = NotificationDelivery.Status


@pytest.fixture
def webhook(settings, webhook_server):  # noqa: F811
    settings.GENESYS_NOTIFY_WEBHOOK_URL = webhook_server.url
    settings.GENESYS_NOTIFY_WEBHOOK_SECRET = SECRET
    settings.GENESYS_NOTIFY_RETRY_SECONDS = [0, 0]
    return webhook_server


def send(django_capture_on_commit_callbacks, **kwargs):
    defaults = {"kind": "run_failed", "subject": "supplier_ingest:3 failed", "body": "boom"}
    with django_capture_on_commit_callbacks(execute=True):
        return notification_send(**{**defaults, **kwargs})


def deliver() -> None:
    jobs_work("notify")


def subscribe(kind: str = "run_failed", channel: str = "email", **user):
    return NotificationSubscriptionFactory(kind=kind, channel=channel, user=UserFactory(**user)).user


def test_a_subscriber_gets_an_email_after_commit_and_the_record_says_sent(django_capture_on_commit_callbacks):
    ana = subscribe(username="ana")
    notification = send(django_capture_on_commit_callbacks, link="/admin/genesys/jobrun/7/change/",
                        object_key="supplier_ingest:3")  # fmt: skip
    assert mail.outbox == []  # nothing is sent inside the caller's transaction

    deliver()

    assert [m.to for m in mail.outbox] == [[ana.email]]
    assert mail.outbox[0].subject == "Genesys: supplier_ingest:3 failed"
    assert "/admin/genesys/jobrun/7/change/" in mail.outbox[0].body
    delivery = notification.deliveries.get()
    assert (delivery.channel, delivery.status, delivery.attempts) == ("email", Status.SENT, 1)


def test_nothing_is_delivered_when_the_callers_transaction_rolls_back(django_capture_on_commit_callbacks):
    from django.db import transaction

    subscribe(username="ana")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            notification_send(kind="run_failed", subject="x", body="y")
            raise RuntimeError("the caller fails")
    deliver()
    assert callbacks == [] and mail.outbox == [] and not Notification.objects.exists()


def test_the_webhook_gets_a_json_body_signed_with_hmac_sha256(webhook, django_capture_on_commit_callbacks):
    notification = send(django_capture_on_commit_callbacks, object_key="supplier_ingest:3")
    deliver()

    [received] = webhook.received
    assert received.headers["content-type"] == "application/json"
    assert received.json()["kind"] == "run_failed" and received.json()["id"] == notification.pk
    assert webhook_signature_valid(
        secret=SECRET,
        timestamp=received.headers["x-genesys-timestamp"],
        body=received.body,
        signature=received.headers["x-genesys-signature"],
    )
    assert not webhook_signature_valid(
        secret="another-secret", timestamp=received.headers["x-genesys-timestamp"], body=received.body,
        signature=received.headers["x-genesys-signature"],
    )  # fmt: skip
    delivery = notification.deliveries.get(channel="webhook")
    assert delivery.status == Status.SENT and delivery.target == webhook.url
    assert SECRET not in delivery.last_error and SECRET not in received.body.decode()


def test_a_webhook_answering_500_is_retried_with_the_error_recorded_then_sent(
    webhook, django_capture_on_commit_callbacks
):
    webhook.statuses = [500]
    notification = send(django_capture_on_commit_callbacks)
    deliver()

    assert [r.status for r in webhook.received] == [500, 200]
    delivery = notification.deliveries.get(channel="webhook")
    assert (delivery.status, delivery.attempts) == (Status.SENT, 2)
    # each attempt signs its own timestamp
    for received in webhook.received:
        assert received.headers["x-genesys-signature"] == webhook_signature(
            secret=SECRET, timestamp=received.headers["x-genesys-timestamp"], body=received.body
        )


def test_a_webhook_failing_every_attempt_ends_failed_with_its_last_error(
    webhook, django_capture_on_commit_callbacks
):
    webhook.statuses = [500, 502, 503]
    notification = send(django_capture_on_commit_callbacks)
    deliver()

    delivery = notification.deliveries.get(channel="webhook")
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 3)
    assert "HTTP 503" in delivery.last_error and SECRET not in delivery.last_error

    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_retry(delivery_ids=[delivery.pk]) == 1
    deliver()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 1)


def test_a_webhook_url_the_outbound_policy_refuses_is_never_called(
    settings, django_capture_on_commit_callbacks
):
    settings.GENESYS_NOTIFY_WEBHOOK_URL = "http://169.254.169.254/latest/meta-data"
    settings.GENESYS_NOTIFY_WEBHOOK_SECRET = SECRET
    settings.GENESYS_NOTIFY_RETRY_SECONDS = []
    notification = send(django_capture_on_commit_callbacks)
    deliver()
    delivery = notification.deliveries.get(channel="webhook")
    assert delivery.status == Status.FAILED and "OutboundRefused" in delivery.last_error


def test_one_notification_per_kind_and_object_per_hour(django_capture_on_commit_callbacks):
    subscribe(username="ana")
    first = send(django_capture_on_commit_callbacks, object_key="supplier_ingest:3")
    again = send(django_capture_on_commit_callbacks, object_key="supplier_ingest:3")
    other = send(django_capture_on_commit_callbacks, object_key="supplier_ingest:4")
    deliver()

    assert (first.throttled, again.throttled, other.throttled) == (False, True, False)
    assert not again.deliveries.exists() and len(mail.outbox) == 2

    Notification.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=61))
    later = send(django_capture_on_commit_callbacks, object_key="supplier_ingest:3")
    assert not later.throttled


def test_subscriptions_choose_per_kind_and_admins_hear_unless_they_chose(
    settings, django_capture_on_commit_callbacks
):
    settings.ADMINS = [("", "boss@example.com"), ("", "ana@example.com")]
    subscribe("run_failed", "none", username="ana")  # Ana, an admin too, opted out
    subscribe("guard_skipped", "email", username="rui")  # another kind
    subscribe("run_failed", "digest", username="eva")  # later, in the digest
    subscribe("run_failed", "email", username="rita", is_active=False)  # left the company

    send(django_capture_on_commit_callbacks)
    deliver()
    assert [m.to for m in mail.outbox] == [["boss@example.com"]]


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(LookupError, match="run_fialed"):
        notification_send(kind="run_fialed", subject="x", body="y")


def test_the_daily_digest_gathers_a_users_kinds_once_a_day(django_capture_on_commit_callbacks):
    eva = subscribe("run_failed", "digest", username="eva")
    NotificationSubscriptionFactory(user=eva, kind="guard_skipped", channel="digest")
    send(django_capture_on_commit_callbacks, subject="supplier_ingest:3 failed", object_key="a")
    send(django_capture_on_commit_callbacks, subject="supplier_ingest:4 failed", object_key="b")
    send(django_capture_on_commit_callbacks, kind="shop_refused", subject="not hers", object_key="c")
    deliver()
    assert mail.outbox == []  # digest subscribers get nothing at once

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_digests_send()["sent"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_digests_send() == {"sent": 0, "nothing_to_tell": 0, "already_sent": 1}
    deliver()

    [message] = mail.outbox
    assert message.to == [eva.email] and "2" in message.subject
    assert "supplier_ingest:3 failed" in message.body and "supplier_ingest:4 failed" in message.body
    assert "not hers" not in message.body


def test_the_digest_is_a_daily_job_kind(django_capture_on_commit_callbacks):
    config = kind_config_get(kind="notification_digest")
    assert config.schedule == "0 7 * * *" and config.enabled


def test_a_run_failing_on_its_last_attempt_notifies_once(django_capture_on_commit_callbacks):
    from genesys.jobs.enqueue import job_enqueue

    subscribe(username="ana")
    kind_register()
    JobKindConfig.objects.filter(kind=TEST_KIND).delete()
    kind_config_get(kind=TEST_KIND)
    JobKindConfig.objects.filter(kind=TEST_KIND).update(retry_attempts=1, retry_backoff_seconds=[0])
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue(kind=TEST_KIND, params={"n": 1, "fail": True})
    jobs_work("maintenance")  # attempt 1 fails, a retry is queued: no notification yet
    assert not Notification.objects.exists()

    jobs_due_now()
    jobs_work("maintenance")  # attempt 2 fails for good
    deliver()

    notification = Notification.objects.get()
    final = JobRun.objects.get(attempt=2)
    assert notification.kind == "run_failed" and notification.object_key == "test_job:1"
    assert notification.link == reverse("admin:genesys_jobrun_change", args=[final.pk])
    assert len(mail.outbox) == 1 and "boom on attempt 2" in mail.outbox[0].body


def test_run_failed_names_the_run_and_its_last_error_line(django_capture_on_commit_callbacks):
    run = JobRunFactory(status=JobRun.Status.FAILED, key="supplier_ingest:9", attempt=4,
                        error="Traceback ...\nFeedReadError: the server answered 404")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        run_failed_notify(run=run)
    notification = Notification.objects.get()
    assert "supplier_ingest:9" in notification.subject and f"run {run.pk}" in notification.subject
    assert "FeedReadError: the server answered 404" in notification.body
    assert notification.object_key == "supplier_ingest:9"


def test_deliveries_redis_never_got_are_resubmitted_once(django_capture_on_commit_callbacks):
    subscribe(username="ana")
    with django_capture_on_commit_callbacks(execute=False):  # the after-commit enqueue is lost
        notification = notification_send(kind="run_failed", subject="lost", body="")
    delivery = notification.deliveries.get()
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )

    assert notification_deliveries_resubmit() == 1
    assert notification_deliveries_resubmit() == 0  # queued again: not overdue any more
    deliver()
    assert len(mail.outbox) == 1


# -- the subscriptions page -------------------------------------------------------------------------


def test_a_viewer_chooses_their_notifications_on_their_page(role_user, client):
    user = role_user("viewer")
    user.email = "viewer@example.com"
    user.save()
    client.force_login(user)
    url = reverse("admin:genesys_notificationsubscription_mine")

    page = client.get(url)
    assert page.status_code == 200 and "viewer@example.com" in page.content.decode()
    kinds = set(page.context["form"].fields)
    assert {"run_failed", "guard_skipped", "shop_refused", "parked_rows", "cron_silent",
            "approval_waiting"} <= kinds and "digest" not in kinds  # fmt: skip

    choices = {kind: "none" for kind in kinds} | {"run_failed": "email", "parked_rows": "digest"}
    assert client.post(url, choices).status_code == 302
    assert dict(NotificationSubscription.objects.filter(user=user).values_list("kind", "channel")) == choices


def test_a_staff_user_without_the_permission_cannot_open_the_page(role_client):
    assert role_client("none").get(reverse("admin:genesys_notificationsubscription_mine")).status_code == 403


# -- cron or scheduler silent -------------------------------------------------------------------------


def test_silent_cron_and_scheduler_notify_once_the_worker_had_time_to_see_them():
    from genesys.notifications.silence import scheduling_silence_notify

    assert scheduling_silence_notify(worker_age_seconds=10) is False  # just started: no judgement
    assert not Notification.objects.exists()

    assert scheduling_silence_notify(worker_age_seconds=3600) is True  # no tick, no scheduler here
    notification = Notification.objects.get(kind="cron_silent")
    assert "never ran" in notification.body and "no RQ scheduler holds" in notification.body
    assert notification.object_key == "scheduling" and notification.link == reverse("healthz")


def test_a_ticking_cron_with_a_scheduler_is_not_silent(redis_conn, settings):
    import time

    from rq.cron_scheduler_registry import get_registry_key
    from rq.scheduler import SCHEDULER_LOCKING_KEY_TEMPLATE

    from genesys.jobs.scheduler import CRON_HEARTBEAT_KEY
    from genesys.notifications.silence import scheduling_silence_notify

    redis_conn.zadd(get_registry_key(), {"cron-1": time.time()})
    redis_conn.set(CRON_HEARTBEAT_KEY, str(time.time()))
    for name in settings.GENESYS_QUEUES:
        redis_conn.set(SCHEDULER_LOCKING_KEY_TEMPLATE % name, "worker-1")
    assert scheduling_silence_notify(worker_age_seconds=3600) is False
    assert not Notification.objects.exists()
