from catalog.models.offer import ProductActiveOffer, ProductSupplierEvent
from catalog.models.product import DirtyProduct, Product, ProductMeta
from catalog.models.taxonomy import Brand, Category
from catalog.models.update_stream import CatalogUpdateStream

__all__ = [
    "Brand",
    "CatalogUpdateStream",
    "Category",
    "DirtyProduct",
    "Product",
    "ProductActiveOffer",
    "ProductMeta",
    "ProductSupplierEvent",
]
