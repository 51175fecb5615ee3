"""Charts on procurement's admin pages: a supplier's run history, feed by feed (genesys.charts)."""

from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from procurement.home import RUN_HISTORY, feed_runs_recent, run_history_series
from procurement.models import Supplier


class SupplierRunHistoryMixin:
    """Adds ``run_history``: the last runs of each of the supplier's feeds (rows, rejections,
    duration) as a chart with its numbers. Two queries, whatever the number of feeds."""

    @admin.display(description=_("run history"))
    def run_history(self, obj: Supplier) -> str:
        if obj.pk is None:
            return "—"
        feeds = list(obj.feeds.order_by("name"))
        runs = feed_runs_recent(per_feed=RUN_HISTORY, feed_ids=[feed.pk for feed in feeds])
        charts = [{"feed": feed, "series": run_history_series(runs=runs.get(feed.pk, []))} for feed in feeds]
        return render_to_string("admin/procurement/run_history.html", {"charts": charts})
