"""The final state of a run, to compare a faulty run with a clean one field by field.

Keyed by what survives a reset of the catalog (SKU, GTIN, shop reference), never by ids.
"""

from __future__ import annotations

from catalog.models import CatalogUpdateStream, DirtyProduct, Product, ProductActiveOffer
from procurement.models import SupplierItem


def catalog_state() -> dict:
    """Everything a clean run decides, keyed by what survives a reset (SKU, GTIN, reference)."""
    return {
        "offers": {  # listed: the feed's last complete run had it (no missing_since)
            sku: (price, stock, missing is None)
            for sku, price, stock, missing in SupplierItem.objects.values_list(
                "sku", "price", "stock", "missing_since"
            )
        },
        "products": {
            gtin: (eol, enabled)
            for gtin, eol, enabled in Product.objects.values_list("gtin", "is_eol", "is_enabled")
        },
        "active": {
            gtin: (sku, cost, price, stock)
            for gtin, sku, cost, price, stock in ProductActiveOffer.objects.values_list(
                "product__gtin", "supplier_item__sku", "unit_cost", "unit_price_sent", "stock_sent"
            )
        },
        "waiting": {
            "dirty": DirtyProduct.objects.count(),
            "stream": CatalogUpdateStream.objects.exclude(status=CatalogUpdateStream.Status.DONE).count(),
        },
    }  # fmt: skip


def shop_state(shop) -> dict:
    return {p.reference: (p.price, p.quantity, p.active) for p in shop.products()}
