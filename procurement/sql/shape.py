"""What both dialects agree on: the staging row and the merge's counters."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import DirtyProduct, Product, ProductMeta, ProductSupplierEvent
from catalog.sql.tables import PROPOSAL_COLUMNS, PROPOSAL_WORK_COLUMNS
from procurement.models import SupplierItem

# One staging row per offer to write, in this order (name, PostgreSQL type). ``pos`` is the
# row's place in the chunk (the later row wins an attribute), ``meta`` a JSON object or NULL;
# ``product_id`` is left NULL: the catalog's product merge writes it from the row's proposal
# (``PROPOSAL_COLUMNS``, last), before the offers are merged.
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pos", "integer"),
    ("sku", "text"),
    ("product_id", "bigint"),
    ("gtin_raw", "text"),
    ("partnumber_raw", "text"),
    ("name_raw", "text"),
    ("brand_raw", "text"),
    ("price", "numeric"),
    ("stock", "integer"),
    ("row_hash", "text"),
    ("raw_hash", "text"),
    ("meta", "text"),
    *PROPOSAL_COLUMNS,
)
# Columns the staging table has but nobody copies in: the product merge's working columns.
STAGE_WORK_COLUMNS = PROPOSAL_WORK_COLUMNS
STAGE_TABLE = "ingest_stage"
OLD_TABLE = "ingest_stage_old"  # SQLite only: the offers as they were before the merge

# The offer columns the merge overwrites on a known SKU.
OFFER_UPDATED = (
    "product_id",
    "gtin_raw",
    "partnumber_raw",
    "name_raw",
    "brand_raw",
    "price",
    "stock",
    "last_read_run_id",
    "missing_since",  # NULL: a row the feed lists again
    "row_hash",
    "raw_hash",
    "updated_at",
)

TABLES = {
    "items": SupplierItem._meta.db_table,
    "events": ProductSupplierEvent._meta.db_table,
    "meta": ProductMeta._meta.db_table,
    "dirty": DirtyProduct._meta.db_table,
    "products": Product._meta.db_table,
    "stage": STAGE_TABLE,
    "old": OLD_TABLE,
}


@dataclass(frozen=True, slots=True)
class MergeCounts:
    offers_created: int = 0
    offers_changed: int = 0
    events: int = 0
    products_marked: int = 0  # dirty marks written (new, moved, repriced, in stock but EOL)
