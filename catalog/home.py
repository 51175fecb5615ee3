"""The catalog's part of the admin home page (genesys.home): the shop update stream and its
backlog over the last 24 hours, and what needs an operator (parked rows, prices waiting)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import CatalogUpdateStream, PriceApproval, StreamBacklogSample
from catalog.services.backlog import stream_backlog_counts
from genesys.charts import Series
from genesys.home import NeedItem, home_needs, home_section

BACKLOG_HOURS = 24


def stream_backlog_series(*, since: Any) -> list[Series]:
    """Pending and parked rows over time, from the recorded samples (one query)."""
    samples = list(
        StreamBacklogSample.objects.filter(taken_at__gte=since)
        .order_by("taken_at")
        .values_list("taken_at", "pending", "failed")
    )
    return [
        Series(label=_("pending"), points=[(at, pending) for at, pending, _failed in samples]),
        Series(label=_("parked"), points=[(at, failed) for at, _pending, failed in samples]),
    ]


@home_section("stream", order=20, template="admin/home/stream.html")
def stream_section(user: Any) -> dict[str, Any] | None:
    """Pending, parked, processing, waiting for approval, oldest pending age, sent in the last
    hour, and the backlog chart. Four queries."""
    if not user.has_perm("catalog.view_catalogupdatestream"):
        return None
    now = timezone.now()
    counts = stream_backlog_counts(now=now)
    sent_last_hour = CatalogUpdateStream.objects.filter(
        status=CatalogUpdateStream.Status.DONE,
        updated_at__gte=now - timedelta(hours=1),
        processed_at__gte=now - timedelta(hours=1),
    ).count()
    waiting = (
        PriceApproval.objects.filter(status=PriceApproval.Status.PENDING).count()
        if user.has_perm("catalog.view_priceapproval")
        else None
    )
    changelist = reverse("admin:catalog_catalogupdatestream_changelist")
    return {
        **counts,
        "sent_last_hour": sent_last_hour,
        "waiting_approval": waiting,
        "backlog": stream_backlog_series(since=now - timedelta(hours=BACKLOG_HOURS)),
        "pending_url": f"{changelist}?status__exact=pending",
        "failed_url": f"{changelist}?status__exact=failed",
        "done_url": f"{changelist}?status__exact=done",
        "approvals_url": reverse("admin:catalog_priceapproval_changelist") + "?status__exact=pending",
    }


@home_needs("catalog")
def catalog_needs(user: Any) -> list[NeedItem]:
    """Prices waiting for approval and parked shop updates. Two queries."""
    items: list[NeedItem] = []
    if user.has_perm("catalog.view_priceapproval"):
        pending = PriceApproval.objects.filter(status=PriceApproval.Status.PENDING).count()
        url = reverse("admin:catalog_priceapproval_changelist") + "?status__exact=pending"
        items.append(NeedItem("prices", _("Prices waiting for approval"), pending, url, 5))
    if user.has_perm("catalog.view_catalogupdatestream"):
        parked = CatalogUpdateStream.objects.filter(status=CatalogUpdateStream.Status.FAILED).count()
        url = reverse("admin:catalog_catalogupdatestream_changelist") + "?status__exact=failed"
        items.append(NeedItem("parked", _("Shop updates parked (failed)"), parked, url, 30))
    return items
