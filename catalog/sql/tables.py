"""Table names the catalog's raw SQL uses, from the models (never spelled out twice)."""

from __future__ import annotations

from catalog.models import CatalogUpdateStream, DirtyProduct, PriceApproval, Product, ProductActiveOffer

PRODUCT = Product._meta.db_table
ACTIVE_OFFER = ProductActiveOffer._meta.db_table
APPROVAL = PriceApproval._meta.db_table
DIRTY = DirtyProduct._meta.db_table
STREAM = CatalogUpdateStream._meta.db_table
# The supplier offers, through the product's reverse relation (the catalog imports no procurement).
OFFER = Product._meta.get_field("offers").related_model._meta.db_table
# The staging table of one recompute chunk: the products, and for a drain the marks read.
RECOMPUTE_SET = "catalog_recompute_set"
# The election of one recompute chunk, every staged product's row (PostgreSQL).
ELECTED = "catalog_recompute_elected"
# The ranking of one chunk's offers: per product, the winner and the others' costs (PostgreSQL).
RANKED = "catalog_recompute_ranked"

# A staging table of product proposals (catalog.services.products.products_merge_staged), one
# row per proposal: the caller's row order and the product id the merge writes back...
PROPOSAL_KEY_COLUMNS = (("pos", "integer"), ("product_id", "bigint"))
# ...what the caller copies in, in catalog.policies.identity's terms (text empty, never NULL;
# a GTIN is a valid GTIN-14 or NULL, and a split row, with a variant, has none)...
PROPOSAL_COLUMNS = (
    ("product_gtin", "text"),
    ("product_brand_id", "bigint"),
    ("product_partnumber", "text"),
    ("product_pn", "text"),
    ("product_variant", "text"),
    ("product_name", "text"),
    ("product_description", "text"),
    ("product_image_url", "text"),
    ("product_weight", "numeric"),
    ("product_category_id", "bigint"),
)
# ...and the merge's own working columns, left NULL by the caller.
PROPOSAL_WORK_COLUMNS = (("product_matched", "boolean"), ("product_key_gtin", "text"))
