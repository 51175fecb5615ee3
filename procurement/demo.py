"""Procurement's part of the demo: three fictional suppliers whose sample feeds ship in ``demo/``.

* Distrilusa: a CSV price list with ``;``, decimal commas and a BOM, dropped under FEEDS_ROOT.
* Nortech: a paginated JSON API with a bearer token, served by ``manage.py serve_demo_feeds``.
* EuroElectro: a Google Merchant Center RSS feed, dropped under FEEDS_ROOT.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from genesys.demo import DEMO_DIR, DEMO_FEED_SERVER_PLACEHOLDER, DemoLoadError, demo_step
from procurement.models import Supplier
from procurement.services.config_io import ConfigImportError, ImportSummary, suppliers_import

DEMO_FILES = ("distrilusa/tarifa.csv", "euroelectro/google-merchant.xml")


def demo_suppliers_load(*, feeds_root: Path, feed_server_url: str, reset: bool = False) -> ImportSummary:
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
    return summary


@demo_step("suppliers")
def demo_suppliers(*, feeds_root: Path, feed_server_url: str, reset: bool) -> str:
    try:
        summary = demo_suppliers_load(feeds_root=feeds_root, feed_server_url=feed_server_url, reset=reset)
    except ConfigImportError as exc:
        # Typically the demo feed server on loopback, refused by the outbound policy.
        raise DemoLoadError(
            [
                *exc.errors,
                "The demo feed server listens on loopback: allow it with "
                "OUTBOUND_ALLOW_HOSTS=127.0.0.1,::1 (make run does), or pass --feed-server-url.",
            ]
        ) from None
    return (
        f"Demo suppliers ready: {', '.join(summary.names)} "
        f"({summary.suppliers_created} created, {summary.suppliers_updated} updated, "
        f"{summary.suppliers_kept} left as they were; "
        f"{summary.feeds_created + summary.feeds_updated} feeds, {summary.mappers_saved} mappers). "
        f"Sample files under {feeds_root / 'demo'}."
    )
