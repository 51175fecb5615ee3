from catalog.models.offer import ProductActiveOffer, ProductSupplierEvent
from catalog.models.pricing import CurrencyRate, PriceApproval, PriceApprovalNotice
from catalog.models.product import DirtyProduct, Product, ProductMeta
from catalog.models.taxonomy import Brand, Category
from catalog.models.update_stream import CatalogUpdateStream, StreamBacklogSample

__all__ = [
    "Brand",
    "CatalogUpdateStream",
    "Category",
    "CurrencyRate",
    "DirtyProduct",
    "PriceApproval",
    "PriceApprovalNotice",
    "Product",
    "ProductActiveOffer",
    "ProductMeta",
    "ProductSupplierEvent",
    "StreamBacklogSample",
]
