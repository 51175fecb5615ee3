"""Procurement's part of the admin home page (genesys.home): the suppliers' last runs with
their history, and what needs an operator (failed runs, skipped guards, conflicts, held offers).

Reads only, each a fixed number of queries whatever the number of suppliers: the last runs come
from one window query (the last ``RUN_HISTORY`` runs of every active feed).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from genesys.admin_tools import job_status_badge, progress_text, status_badge
from genesys.charts import Series
from genesys.home import NeedItem, home_needs, home_section
from genesys.models import JobKind, JobRun
from procurement.models import FeedRun, IdentityConflict, SupplierFeed, SupplierItem

RUN_HISTORY = 30
RUN_FIELDS = (
    "id",
    "feed_id",
    "status",
    "started_at",
    "finished_at",
    "rows_read",
    "rows_valid",
    "rows_rejected",
    "offers_changed",
    "unseen_handling",
    "progress",
    "job_run_id",
)


def feed_runs_recent(
    *, per_feed: int = RUN_HISTORY, feed_ids: list[int] | None = None
) -> dict[int, list[dict]]:
    """Feed id -> its last ``per_feed`` runs (newest first, dry runs excluded), in one query."""
    runs = FeedRun.objects.filter(dry_run=False)
    if feed_ids is not None:
        runs = runs.filter(feed_id__in=feed_ids)
    rows = (
        runs.annotate(
            position=Window(
                RowNumber(), partition_by=[F("feed_id")], order_by=[F("started_at").desc(), F("id").desc()]
            )
        )
        .filter(position__lte=per_feed)
        .order_by("feed_id", "position")
        .values(*RUN_FIELDS)
    )
    by_feed: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_feed[row["feed_id"]].append(row)
    return by_feed


def run_history_series(*, runs: list[dict]) -> list[Series]:
    """Valid rows, rejected rows and duration of runs (oldest first) for a chart."""

    def duration(run: dict) -> float | None:
        if run["finished_at"] is None:
            return None
        return round((run["finished_at"] - run["started_at"]).total_seconds(), 1)

    ordered = sorted(runs, key=lambda run: run["started_at"])
    return [
        Series(
            label=_("valid rows"), kind="bar", points=[(r["started_at"], r["rows_valid"]) for r in ordered]
        ),
        Series(
            label=_("rejected rows"),
            kind="bar",
            points=[(r["started_at"], r["rows_rejected"]) for r in ordered],
        ),
        Series(
            label=_("duration (s)"), axis="right", points=[(r["started_at"], duration(r)) for r in ordered]
        ),
    ]


def _active_ingests() -> dict[str, dict[str, Any]]:
    """Supplier ingest job key -> its queued or running ledger row (at most one per key)."""
    rows = JobRun.objects.filter(kind=JobKind.SUPPLIER_INGEST, status__in=JobRun.ACTIVE).values(
        "id", "key", "status", "scheduled_for", "started_at", "progress"
    )
    return {row["key"]: dict(row) for row in rows}


def _next_ingest_html(*, ingest: dict | None, now: datetime) -> str:
    """The supplier's ingest job: "scheduled for 14:00", queued (waiting for a worker), running."""
    if ingest is None:
        return "—"
    label = str(JobRun.Status(ingest["status"]).label)
    return job_status_badge(
        status=ingest["status"], label=label, scheduled_for=ingest["scheduled_for"], now=now
    )


def _age_seconds(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


@home_section("suppliers", order=10, template="admin/home/suppliers.html")
def suppliers_section(user: Any) -> dict[str, Any] | None:
    """Per active feed: its last run (status, age, rows, offers changed, unseen guard), a
    sparkline of its last runs, and the supplier's next or running ingest. Three queries."""
    if not user.has_perm("procurement.view_feedrun"):
        return None
    from procurement.services.scheduling import supplier_ingest_key

    now = timezone.now()
    feeds = list(
        SupplierFeed.objects.filter(is_active=True, supplier__is_active=True)
        .select_related("supplier")
        .order_by("supplier__name", "name")
    )
    runs = feed_runs_recent(feed_ids=[feed.pk for feed in feeds])
    ingests = _active_ingests()
    rows = []
    for feed in feeds:
        history = runs.get(feed.pk, [])
        last = history[0] if history else None
        ingest = ingests.get(supplier_ingest_key(feed.supplier_id))
        scheduled = bool(
            ingest
            and ingest["status"] == JobRun.Status.QUEUED
            and ingest["scheduled_for"] is not None
            and ingest["scheduled_for"] > now
        )
        rows.append(
            {
                "status_html": status_badge(last["status"], str(FeedRun.Status(last["status"]).label))
                if last
                else "",
                "progress": progress_text(ingest["progress"], now=now) if ingest else "",
                "next_html": _next_ingest_html(ingest=ingest, now=now),
                "feed": feed,
                "supplier": feed.supplier,
                "last": last,
                "age_s": _age_seconds(last["finished_at"] or last["started_at"], now) if last else None,
                "history": run_history_series(runs=history),
                "ingest": ingest,
                "scheduled": scheduled,
                "feed_url": reverse("admin:procurement_supplierfeed_change", args=[feed.pk]),
                "run_url": reverse("admin:procurement_feedrun_change", args=[last["id"]]) if last else "",
            }
        )
    return {"rows": rows, "runs_url": reverse("admin:procurement_feedrun_changelist")}


@home_needs("procurement")
def procurement_needs(user: Any) -> list[NeedItem]:
    """Feeds whose last run failed or skipped the unseen guard, open identity conflicts, offers
    on hold. Three queries."""
    items: list[NeedItem] = []
    if user.has_perm("procurement.view_feedrun"):
        active = list(
            SupplierFeed.objects.filter(is_active=True, supplier__is_active=True).values_list("id", flat=True)
        )
        latest = [runs[0] for runs in feed_runs_recent(per_feed=1, feed_ids=active).values()]
        runs_url = reverse("admin:procurement_feedrun_changelist")
        failed = sum(run["status"] in (FeedRun.Status.FAILED, FeedRun.Status.ABANDONED) for run in latest)
        skipped = sum(run["unseen_handling"] == "skipped" for run in latest)
        items.append(
            NeedItem(
                "failed_runs",
                _("Feeds whose last run failed"),
                failed,
                f"{runs_url}?status__exact=failed",
                10,
            )
        )
        items.append(
            NeedItem(
                "skipped_guards",
                _("Feeds whose last run skipped the missing-offer step (the guard)"),
                skipped,
                f"{runs_url}?unseen_handling__exact=skipped",
                20,
            )
        )
    if user.has_perm("procurement.view_identityconflict"):
        open_conflicts = IdentityConflict.objects.filter(status=IdentityConflict.Status.OPEN).count()
        url = reverse("admin:procurement_identityconflict_changelist") + "?status__exact=open"
        items.append(
            NeedItem("identity_conflicts", _("Identity conflicts to review"), open_conflicts, url, 60)
        )
    if user.has_perm("procurement.view_supplieritem"):
        held = dict(
            SupplierItem.objects.exclude(hold_reason="")
            .order_by()
            .values_list("hold_reason")
            .annotate(n=Count("id"))
            .values_list("hold_reason", "n")
        )
        changelist = reverse("admin:procurement_supplieritem_changelist")
        labels = {
            SupplierItem.HoldReason.IDENTITY_CONFLICT: _("Offers held: identity conflicts"),
            SupplierItem.HoldReason.PRICE_OUTLIER: _("Offers held: price outliers"),
            SupplierItem.HoldReason.PRICE_REJECTED: _("Offers held: prices rejected"),
        }
        for order, (reason, label) in enumerate(labels.items(), start=61):
            items.append(
                NeedItem(
                    str(reason.value),
                    label,
                    held.get(reason.value, 0),
                    f"{changelist}?hold_reason__exact={reason.value}",
                    order,
                )
            )
    return items
