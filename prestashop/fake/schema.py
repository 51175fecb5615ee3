"""The fake shop's resources, modelled on PrestaShop 8's ``webserviceParameters``.

Field order follows the real GET output, because PrestaShop checks a PUT's fields in this order
(``position_in_category`` before ``manufacturer_name``, which decides which error a naive PUT
gets). Only the five resources Genesys uses exist; others answer code 27 like unknown ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prestashop.fields import EAN13_PATTERN, LINK_REWRITE_PATTERN, PRICE_PATTERN

_UNSIGNED_ID = re.compile(r"^[0-9]+$")
_INT = re.compile(r"^-?[0-9]+$")
_BOOL = re.compile(r"^[01]$")
_FLOAT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_UNSIGNED_FLOAT = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_DATE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})( [0-9]{2}:[0-9]{2}:[0-9]{2})?$")
_REFERENCE = re.compile(r"^[^<>;={}]*$")
_CATALOG_NAME = re.compile(r"^[^<>;=#{}]*$")
_GENERIC_NAME = re.compile(r"^[^<>={}]*$")
_CLEAN_HTML = re.compile(r"<\s*(script|iframe|form|object|embed)\b|\bon[a-z]+\s*=|javascript:", re.IGNORECASE)
_ISO_CODE = re.compile(r"^[a-zA-Z]{2,3}$")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: str = "text"  # id | int | bool | price | float | date | text
    i18n: bool = False
    read_only: bool = False  # setter false: writing it is code 93
    required: bool = False  # absent on POST/PUT: code 41
    pattern: re.Pattern[str] | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    xlink: str | None = None  # resource the id points at
    html: bool = False

    def is_valid(self, value: str) -> bool:
        """PrestaShop validates only non-empty values (``ObjectModel::validateField``)."""
        if value == "":
            return True
        if self.max_length is not None and len(value) > self.max_length:
            return False
        if self.html and _CLEAN_HTML.search(value):
            return False
        checks = {
            "id": _UNSIGNED_ID,
            "int": _INT,
            "bool": _BOOL,
            "price": PRICE_PATTERN,
            "float": _FLOAT,
            "date": _DATE,
        }
        if self.kind in checks and not checks[self.kind].match(value):
            return False
        if self.pattern is not None and not self.pattern.match(value):
            return False
        return not self.choices or value in self.choices

    @property
    def numeric(self) -> bool:
        return self.kind in {"id", "int", "bool", "price", "float"}


@dataclass(frozen=True, slots=True)
class AssociationSpec:
    name: str  # "categories"
    node: str  # "category"
    resource: str  # xlink target
    writable: bool  # False: silently ignored on write, like a setter of false
    extra_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: str
    node: str
    class_name: str
    description: str
    fields: tuple[FieldSpec, ...]
    associations: tuple[AssociationSpec, ...] = ()
    forbidden_methods: frozenset[str] = field(default_factory=frozenset)

    def field(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.name == name), None)

    def require(self, name: str) -> FieldSpec:
        """A field the fake's own code names (a KeyError here is a bug in the fake)."""
        spec = self.field(name)
        if spec is None:
            raise KeyError(f"{self.name} has no field {name!r}")
        return spec

    @property
    def scalar_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for spec in self.fields if not spec.i18n)

    @property
    def i18n_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for spec in self.fields if spec.i18n)


def _f(name: str, kind: str = "text", **options: object) -> FieldSpec:
    return FieldSpec(name, kind, **options)  # type: ignore[arg-type]


def _t(name: str, **options: object) -> FieldSpec:
    return FieldSpec(name, "text", i18n=True, **options)  # type: ignore[arg-type]


LANGUAGES = ResourceSpec(
    name="languages",
    node="language",
    class_name="Language",
    description="Shop languages",
    fields=(
        _f("id", "id"),
        _f("name", required=True, max_length=32, pattern=_GENERIC_NAME),
        _f("iso_code", required=True, pattern=_ISO_CODE),
        _f("locale"),
        _f("language_code"),
        _f("active", "bool"),
        _f("is_rtl", "bool"),
        _f("date_format_lite"),
        _f("date_format_full"),
    ),
)

CATEGORIES = ResourceSpec(
    name="categories",
    node="category",
    class_name="Category",
    description="The product categories",
    fields=(
        _f("id", "id"),
        _f("id_parent", "id", xlink="categories"),
        _f("level_depth", "int", read_only=True),
        _f("nb_products_recursive", "int", read_only=True),
        _f("active", "bool", required=True),
        _f("id_shop_default", "id"),
        _f("is_root_category", "bool"),
        _f("position", "int"),
        _f("date_add", "date"),
        _f("date_upd", "date"),
        _t("name", pattern=_CATALOG_NAME, max_length=128),
        _t("link_rewrite", pattern=LINK_REWRITE_PATTERN, max_length=128),
        _t("description", html=True),
        _t("meta_title", pattern=_GENERIC_NAME, max_length=255),
    ),
    associations=(AssociationSpec("categories", "category", "categories", writable=False),),
)

MANUFACTURERS = ResourceSpec(
    name="manufacturers",
    node="manufacturer",
    class_name="Manufacturer",
    description="The product brands",
    fields=(
        _f("id", "id"),
        _f("active", "bool"),
        _f("link_rewrite", read_only=True),
        _f("name", required=True, pattern=_CATALOG_NAME, max_length=64),
        _f("date_add", "date"),
        _f("date_upd", "date"),
        _t("description", html=True),
        _t("short_description", html=True),
        _t("meta_title", pattern=_GENERIC_NAME, max_length=255),
    ),
)

PRODUCTS = ResourceSpec(
    name="products",
    node="product",
    class_name="Product",
    description="The products",
    fields=(
        _f("id", "id"),
        _f("id_manufacturer", "id", xlink="manufacturers"),
        _f("id_supplier", "id", xlink="suppliers"),
        _f("id_category_default", "id", xlink="categories"),
        _f("new"),
        _f("cache_default_attribute", "id"),
        _f("id_default_image", "id", xlink="images"),
        _f("id_default_combination", "id", xlink="combinations"),
        _f("id_tax_rules_group", "id", xlink="tax_rule_groups"),
        _f("position_in_category", "int"),
        _f("manufacturer_name", read_only=True),
        _f("quantity", "int", read_only=True),
        _f("type"),
        _f("id_shop_default", "id"),
        _f("reference", pattern=_REFERENCE, max_length=64),
        _f("supplier_reference", pattern=_REFERENCE, max_length=64),
        _f("location", max_length=255),
        _f("width", "float"),
        _f("height", "float"),
        _f("depth", "float"),
        _f("weight", "float", pattern=_UNSIGNED_FLOAT),
        _f("quantity_discount", "bool"),
        _f("ean13", pattern=EAN13_PATTERN),
        _f("isbn", pattern=re.compile(r"^[0-9-]{0,32}$")),
        _f("upc", pattern=re.compile(r"^[0-9]{0,12}$")),
        _f("mpn", max_length=40),
        _f("cache_is_pack", "bool"),
        _f("cache_has_attachments", "bool"),
        _f("is_virtual", "bool"),
        _f("state", "int"),
        _f("additional_delivery_times", "int"),
        _t("delivery_in_stock", pattern=_GENERIC_NAME, max_length=255),
        _t("delivery_out_stock", pattern=_GENERIC_NAME, max_length=255),
        _f("product_type", choices=("standard", "pack", "virtual", "combinations")),
        _f("on_sale", "bool"),
        _f("online_only", "bool"),
        _f("ecotax", "price"),
        _f("minimal_quantity", "int"),
        _f("low_stock_threshold", "int"),
        _f("low_stock_alert", "bool"),
        _f("price", "price", required=True),
        _f("wholesale_price", "price"),
        _f("unity", pattern=_GENERIC_NAME),
        _f("unit_price_ratio", "float"),
        _f("additional_shipping_cost", "price"),
        _f("customizable", "int"),
        _f("text_fields", "int"),
        _f("uploadable_files", "int"),
        _f("active", "bool"),
        _f(
            "redirect_type",
            choices=("404", "410", "301-product", "302-product", "301-category", "302-category", "default"),
        ),
        _f("id_type_redirected", "id"),
        _f("available_for_order", "bool"),
        _f("available_date", "date"),
        _f("show_condition", "bool"),
        _f("condition", choices=("new", "used", "refurbished")),
        _f("show_price", "bool"),
        _f("indexed", "bool"),
        _f("visibility", choices=("both", "catalog", "search", "none")),
        _f("advanced_stock_management", "bool"),
        _f("date_add", "date"),
        _f("date_upd", "date"),
        _f("pack_stock_type", "int"),
        _t("meta_description", pattern=_GENERIC_NAME, max_length=512),
        _t("meta_keywords", pattern=_GENERIC_NAME, max_length=255),
        _t("meta_title", pattern=_GENERIC_NAME, max_length=255),
        _t("link_rewrite", pattern=LINK_REWRITE_PATTERN, max_length=128),
        _t("name", pattern=_CATALOG_NAME, max_length=128),
        _t("description", html=True),
        _t("description_short", html=True),
        _t("available_now", pattern=_GENERIC_NAME, max_length=255),
        _t("available_later", pattern=_GENERIC_NAME, max_length=255),
    ),
    associations=(
        AssociationSpec("categories", "category", "categories", writable=True),
        AssociationSpec(
            "stock_availables",
            "stock_available",
            "stock_availables",
            writable=False,
            extra_fields=("id_product_attribute",),
        ),
    ),
)

STOCK_AVAILABLES = ResourceSpec(
    name="stock_availables",
    node="stock_available",
    class_name="StockAvailable",
    description="Available quantities",
    fields=(
        _f("id", "id"),
        _f("id_product", "id", required=True, xlink="products"),
        _f("id_product_attribute", "id", required=True, xlink="combinations"),
        _f("id_shop", "id", xlink="shops"),
        _f("id_shop_group", "id", xlink="shop_groups"),
        _f("quantity", "int", required=True),
        _f("depends_on_stock", "bool", required=True),
        _f("out_of_stock", "int", required=True),
        _f("location", max_length=255),
    ),
    forbidden_methods=frozenset({"POST", "DELETE"}),
)

RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec for spec in (LANGUAGES, CATEGORIES, MANUFACTURERS, PRODUCTS, STOCK_AVAILABLES)
}
# Names a real shop also lists, so "Did you mean" suggestions and the root listing look real.
OTHER_RESOURCE_NAMES = ("addresses", "carriers", "combinations", "customers", "images", "orders", "shops",
                        "suppliers", "tax_rule_groups")  # fmt: skip
