"""An operator subscribes to "run failed" in the browser; a feed run fails; they hear about it.

The email is captured by Django's locmem backend, the webhook received by a real HTTP server on
loopback and its HMAC-SHA256 signature checked; the ingest and the deliveries run in a real RQ
worker on the test Redis.
"""

from __future__ import annotations

import pytest
from django.core import mail

from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.ledger import kind_config_get
from genesys.models import JobKind, JobKindConfig, JobRun, NotificationSubscription
from genesys.notifications.signing import webhook_signature_valid
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory
from tests.support.jobs import jobs_work
from tests.support.webhook_server import webhook_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "browser-webhook-secret-0123456789"


def test_an_operator_subscribed_to_run_failed_gets_the_email_and_the_signed_webhook(
    page,
    browser_user,
    login,
    screenshot,
    settings,
    feed_server,
    webhook_server,  # noqa: F811
):
    settings.GENESYS_NOTIFY_WEBHOOK_URL = webhook_server.url
    settings.GENESYS_NOTIFY_WEBHOOK_SECRET = SECRET
    operator = browser_user("operator")
    operator.email = "operadora@example.com"
    operator.save()

    login(page, operator, next_path="/admin/genesys/notificationsubscription/mine/")
    assert page.locator("label[for=id_run_failed]").inner_text() == "Execução falhada"
    page.select_option("#id_run_failed", "email")
    screenshot(page, "notifications-subscribe")
    page.click("#notification-subscriptions input[type=submit]")
    assert "guardada" in page.locator(".messagelist").inner_text()
    assert NotificationSubscription.objects.get(user=operator, kind="run_failed").channel == "email"

    # A supplier whose feed server answers 500: the ingest fails on its only attempt.
    feed_server.route("/tarifa.csv", status=500, body=b"upstream down")
    feed = SupplierFeedFactory(
        supplier=SupplierFactory(name="Distrilusa"), source_url=feed_server.url("/tarifa.csv"),
        format_options={"delimiter": ";", "retry_backoff": 0.01},
    )  # fmt: skip
    FeedMapperFactory(feed=feed)
    kind_config_get(kind=JobKind.SUPPLIER_INGEST)
    JobKindConfig.objects.filter(kind=JobKind.SUPPLIER_INGEST).update(retry_attempts=0)
    run = job_enqueue(
        kind=JobKind.SUPPLIER_INGEST, params={"supplier_id": feed.supplier_id}, triggered_by="test"
    )
    jobs_work("ingest")
    jobs_work("notify")

    run.refresh_from_db()
    assert run.status == JobRun.Status.FAILED
    [message] = mail.outbox
    assert message.to == ["operadora@example.com"]
    assert run.key in message.subject and f"/admin/genesys/jobrun/{run.pk}/change/" in message.body
    [received] = webhook_server.received
    assert received.json()["kind"] == "run_failed" and received.json()["object_key"] == run.key
    assert webhook_signature_valid(
        secret=SECRET, timestamp=received.headers["x-genesys-timestamp"], body=received.body,
        signature=received.headers["x-genesys-signature"],
    )  # fmt: skip

    # The operator follows the link to the run and sees the notification in the admin.
    page.goto("/admin/genesys/notification/")
    assert run.key in page.locator("#result_list").inner_text()
    screenshot(page, "notifications-list")
