"""Demo data: three fictional suppliers whose sample feeds ship in ``demo/``.

* Distrilusa: a CSV price list with ``;``, decimal commas and a BOM, dropped under FEEDS_ROOT.
* Nortech: a paginated JSON API with a bearer token, served by ``manage.py serve_demo_feeds``.
* EuroElectro: a Google Merchant Center RSS feed, dropped under FEEDS_ROOT.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.conf import settings

from genesys.jobs.enqueue import job_enqueue
from genesys.models import JobKind
from procurement.models import Supplier
from procurement.services.config_io import ImportSummary, suppliers_import

DEMO_DIR = Path(settings.BASE_DIR) / "demo"
DEMO_FILES = ("distrilusa/tarifa.csv", "euroelectro/google-merchant.xml")
DEMO_FEED_SERVER_PLACEHOLDER = "http://127.0.0.1:8082"


def demo_load(*, feeds_root: Path, feed_server_url: str, reset: bool = False) -> ImportSummary:
    """Copy the sample files under ``feeds_root/demo`` and create the demo suppliers that are missing.

    A demo supplier that exists is left as the operator set it (its margin, schedule, feeds and
    mappers: every ``make run`` calls this); ``reset`` puts the demo's own settings back.
    """
    for relative in DEMO_FILES:
        target = feeds_root / "demo" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if reset or not target.exists():
            shutil.copyfile(DEMO_DIR / "feeds" / relative, target)
    raw = (DEMO_DIR / "suppliers.json").read_text(encoding="utf-8")
    raw = raw.replace(DEMO_FEED_SERVER_PLACEHOLDER, feed_server_url.rstrip("/"))
    data = json.loads(raw)
    existing = set(Supplier.objects.values_list("name", flat=True))
    kept = [] if reset else [s["name"] for s in data["suppliers"] if s["name"] in existing]
    data["suppliers"] = [s for s in data["suppliers"] if s["name"] not in kept]
    summary = suppliers_import(data=data)
    summary.names = [*summary.names, *kept]
    summary.suppliers_kept = len(kept)
    if settings.PRESTASHOP_URL:
        # Fetch the shop's categories as soon as a worker starts, so they can be mapped at once.
        job_enqueue(kind=JobKind.PRESTASHOP_SYNC_CATEGORIES, triggered_by="demo")
    return summary
