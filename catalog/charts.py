"""Reads behind the product page's charts: what the shop was sent and what each supplier
offered, over time (genesys.charts draws them).

Sent price, landed cost and stock come from the shop update stream's delivered rows (their
payload is exactly what the shop was told, kept ``RETENTION_DAYS``); each supplier's price and
stock from the product's offer events (``ProductSupplierEvent``). Two queries, bounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from catalog.models import CatalogUpdateStream, ProductSupplierEvent
from genesys.charts import Series

POINTS_MAX = 200


def _money(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def product_history_series(*, product_id: int) -> dict[str, list[Series]]:
    """{"price": [...], "stock": [...]}: the last ``POINTS_MAX`` deliveries and offer events."""
    sent = list(
        CatalogUpdateStream.objects.filter(
            product_id=product_id, status=CatalogUpdateStream.Status.DONE, processed_at__isnull=False
        )
        .order_by("-processed_at")
        .values_list("processed_at", "payload")[:POINTS_MAX]
    )
    sent.reverse()
    events = list(
        ProductSupplierEvent.objects.filter(product_id=product_id, supplier__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("created_at", "supplier__name", "new_price", "new_stock")[:POINTS_MAX]
    )
    events.reverse()
    price: list[Series] = [
        Series(
            label=_("price sent to the shop"),
            kind="step",
            points=[(at, _money((payload.get("shop") or {}).get("price"))) for at, payload in sent if at],
        ),
        Series(
            label=_("landed cost"),
            kind="step",
            points=[
                (at, _money((payload.get("active_offer") or {}).get("unit_cost")))
                for at, payload in sent
                if at
            ],
        ),
    ]
    stock: list[Series] = [
        Series(
            label=_("stock sent to the shop"),
            kind="step",
            points=[(at, (payload.get("shop") or {}).get("quantity")) for at, payload in sent if at],
        )
    ]
    suppliers = sorted({name for _at, name, _price, _stock in events})
    for name in suppliers:
        mine = [(at, p, s) for at, n, p, s in events if n == name]
        price.append(
            Series(
                label=_("%(supplier)s: price in the feed") % {"supplier": name},
                kind="step",
                points=[(at, p) for at, p, _s in mine if p is not None],
            )
        )
        stock.append(
            Series(
                label=_("%(supplier)s: stock") % {"supplier": name},
                kind="step",
                points=[(at, s) for at, _p, s in mine if s is not None],
            )
        )
    return {"price": price, "stock": stock}
