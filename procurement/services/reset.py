"""The development reset of the seed document: empty the catalog, keep the configuration.

It lives in procurement because it empties procurement's offers and runs as well as the catalog
(the one app that may read both); suppliers, feeds and mappers stay.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Model

from catalog.models import (
    Brand,
    CatalogUpdateStream,
    Category,
    DirtyProduct,
    PriceApproval,
    PriceApprovalNotice,
    Product,
    ProductActiveOffer,
    ProductMeta,
    ProductSupplierEvent,
)
from genesys.models import JobRun, JobRunLog
from procurement.models import FeedRun, IdentityConflict, IdentityRule, SupplierItem

# Children before parents, so plain DELETEs never trip a foreign key.
RESET_MODELS: tuple[type[Model], ...] = (
    IdentityRule,  # split rules name brands, which go too
    IdentityConflict,
    PriceApprovalNotice,
    PriceApproval,
    CatalogUpdateStream,
    DirtyProduct,
    ProductActiveOffer,
    ProductSupplierEvent,
    ProductMeta,
    SupplierItem,
    FeedRun,
    JobRunLog,
    JobRun,
    Product,
    Category,
    Brand,
)


@transaction.atomic
def catalog_reset() -> dict[str, int]:
    """Delete products, offers, events, active offers, the stream, runs, brands and categories
    (and the identity conflicts and split rules that point at them).

    Suppliers, feeds and mappers stay. Set-based: one statement per table (TRUNCATE on
    PostgreSQL), never a row-by-row cascade through the ORM. Returns the rows removed per model.
    """
    counts = {model._meta.label: model._default_manager.count() for model in RESET_MODELS}
    # Table names come from our own models and are quoted: no outside input reaches this SQL.
    tables = [connection.ops.quote_name(model._meta.db_table) for model in RESET_MODELS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE TABLE {', '.join(tables)}")
        else:
            # Category rows reference their parent: clear the links so the order doesn't matter.
            category_table = connection.ops.quote_name(Category._meta.db_table)
            cursor.execute(f"UPDATE {category_table} SET parent_id = NULL")  # noqa: S608
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    return counts
