"""The shop's part of the demo: fetch its categories as soon as a worker starts."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from genesys.demo import demo_step
from genesys.jobs.enqueue import job_enqueue
from genesys.models import JobKind


@demo_step("shop_categories")
def demo_shop_categories(*, feeds_root: Path, feed_server_url: str, reset: bool) -> str:
    """With a shop configured, queue its category sync so the categories can be mapped at once."""
    if not settings.PRESTASHOP_URL:
        return ""
    job_enqueue(kind=JobKind.PRESTASHOP_SYNC_CATEGORIES, triggered_by="demo")
    return "The shop's categories are fetched as soon as a worker starts."
