"""PrestaShop Webservice XML: pure builders and parsers (no HTTP), so every quirk is testable alone.

Builders put text values in CDATA (plain escaped text when the value itself contains ``]]>``)
after removing characters XML cannot carry. Parsers read CDATA, one or many ``<language>`` nodes,
and refuse HTML pages and PHP notices with a message that says what came back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

from prestashop.errors import ShopResponseError
from prestashop.fields import PreparedProduct, clean_text
from prestashop.transport import describe_body, snippet
from prestashop.types import ShopCategory, ShopLanguage, ShopManufacturer, ShopProductRef

XLINK_NS = "http://www.w3.org/1999/xlink"
# Fields a product GET returns but a PUT refuses: code 93 for the first two, 500/134-135 for the
# position (PS#26761); associations are left out so the shop keeps them as they are.
READ_ONLY_PRODUCT_FIELDS = ("manufacturer_name", "quantity", "position_in_category", "associations")
STOCK_PUT_FIELDS = ("id", "id_product", "id_product_attribute", "id_shop", "id_shop_group", "quantity",
                    "depends_on_stock", "out_of_stock")  # fmt: skip
METHODS = ("GET", "PUT", "PATCH", "POST", "DELETE", "HEAD")


def _identity(text: str) -> str:
    return text


# --- building ----------------------------------------------------------------------------------


def _set_text(element: etree._Element, value: str) -> None:
    value = clean_text(value)
    # CDATA cannot contain its own terminator; lxml escapes & and < in plain text anyway.
    element.text = value if "]]>" in value else etree.CDATA(value)


def _add(parent: etree._Element, tag: str, value: str | int | None) -> None:
    if value is None:
        return
    element = etree.SubElement(parent, tag)
    if isinstance(value, bool):
        element.text = "1" if value else "0"
    elif isinstance(value, int):
        element.text = str(value)
    else:
        _set_text(element, value)


def _add_languages(parent: etree._Element, tag: str, texts: dict[int, str]) -> None:
    element = etree.SubElement(parent, tag)
    for language_id, text in sorted(texts.items()):
        node = etree.SubElement(element, "language", id=str(language_id))
        _set_text(node, text)


def _document(resource: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element("prestashop", nsmap={"xlink": XLINK_NS})
    return root, etree.SubElement(root, resource)


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_product_xml(product: PreparedProduct, *, shop_id: int, tax_rules_group_id: int) -> bytes:
    """POST body for a new, disabled product.

    Never sends ``id`` (code 91), ``quantity``/``manufacturer_name`` (code 93) or
    ``position_in_category``; sets every field a blank schema would leave empty (a NULL there
    overrides PrestaShop's defaults), and ``state=1`` so the product is not a temporary draft.
    """
    root, node = _document("product")
    _add(node, "id_manufacturer", product.id_manufacturer)
    _add(node, "id_category_default", product.id_category_default)
    _add(node, "id_tax_rules_group", tax_rules_group_id)
    _add(node, "id_shop_default", shop_id)
    _add(node, "reference", product.reference)
    _add(node, "ean13", product.ean13)
    _add(node, "weight", product.weight)
    _add(node, "price", product.price)
    _add(node, "active", False)
    _add(node, "state", 1)
    _add(node, "product_type", "standard")
    _add(node, "condition", "new")
    _add(node, "visibility", "both")
    _add(node, "available_for_order", True)
    _add(node, "show_price", True)
    _add(node, "minimal_quantity", 1)
    _add_languages(node, "name", product.names)
    _add_languages(node, "link_rewrite", product.link_rewrites)
    _add_languages(node, "description", product.descriptions)
    _add_languages(node, "description_short", product.short_descriptions)
    categories = etree.SubElement(etree.SubElement(node, "associations"), "categories")
    for category_id in product.category_ids:
        _add(etree.SubElement(categories, "category"), "id", category_id)
    return _serialize(root)


def build_product_patch_xml(*, id_product: int, price: str | None, active: bool | None) -> bytes:
    """PATCH body (PrestaShop 8+): only the fields to change, plus the mandatory ``id`` (code 90)."""
    root, node = _document("product")
    _add(node, "id", id_product)
    _add(node, "price", price)
    _add(node, "active", active)
    return _serialize(root)


def product_put_xml(document: etree._Element, *, price: str | None, active: bool | None) -> bytes:
    """PUT body from a GET of the full product (PrestaShop < 8, where PATCH does not exist).

    A PUT replaces the whole product: what is left out becomes NULL or empty (PS#33783), so the
    body is the stored product minus the fields a PUT refuses, with the new values set.
    """
    product = document.find("product")
    if product is None:
        raise ShopResponseError("the product GET has no <product> element")
    product = etree.fromstring(etree.tostring(product))
    for name in READ_ONLY_PRODUCT_FIELDS:
        for element in product.findall(name):
            product.remove(element)
    for element in product.iter():
        for attribute in list(element.attrib):
            if not (element.tag == "language" and attribute == "id"):
                del element.attrib[attribute]
    for name, value in (("price", price), ("active", active)):
        if value is None:
            continue
        element = product.find(name)
        if element is None:
            element = etree.SubElement(product, name)
        element.text = ("1" if value else "0") if isinstance(value, bool) else value
    root, _ = _document("product")
    root.replace(root[0], product)
    return _serialize(root)


@dataclass(frozen=True, slots=True)
class StockRow:
    id: int
    id_product: int
    id_product_attribute: int
    id_shop: int
    id_shop_group: int
    quantity: int
    depends_on_stock: int
    out_of_stock: int


def build_stock_patch_xml(*, id_stock: int, quantity: int) -> bytes:
    root, node = _document("stock_available")
    _add(node, "id", id_stock)
    _add(node, "quantity", max(0, quantity))
    return _serialize(root)


def build_stock_put_xml(row: StockRow, *, quantity: int) -> bytes:
    """Full PUT of a stock row; the shop requires every one of ``STOCK_PUT_FIELDS``."""
    root, node = _document("stock_available")
    for name in STOCK_PUT_FIELDS:
        _add(node, name, max(0, quantity) if name == "quantity" else getattr(row, name))
    return _serialize(root)


def pick_stock_row(rows: Iterable[StockRow], *, shop_id: int) -> StockRow | None:
    """The product-level row (``id_product_attribute=0``) of the shop, or the shared row of its
    shop group (``id_shop=0``) when the group shares stock and there is exactly one."""
    product_rows = [row for row in rows if row.id_product_attribute == 0]
    for row in product_rows:
        if row.id_shop == shop_id:
            return row
    shared = [row for row in product_rows if row.id_shop == 0]
    return shared[0] if len(shared) == 1 else None


# --- parsing -----------------------------------------------------------------------------------


def parse_xml(
    body: bytes, *, status: int, label: str, scrub: Callable[[str], str] = _identity
) -> etree._Element:
    """The ``<prestashop>`` root of a response, or ShopResponseError saying what came back."""
    text = clean_text(body.decode("utf-8", errors="replace")).lstrip("\ufeff \t\r\n")
    permanent = status < 500
    if not (text.startswith("<?xml") or text.startswith("<prestashop")):
        raise ShopResponseError(
            scrub(f"{label}: HTTP {status} with {describe_body(body)}"), status=status, permanent=permanent
        )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise ShopResponseError(
            scrub(f"{label}: HTTP {status} with broken XML ({exc.msg}): {snippet(text)!r}"),
            status=status,
            permanent=permanent,
        ) from None
    if root.tag != "prestashop":
        raise ShopResponseError(
            scrub(f"{label}: HTTP {status} with XML whose root is <{root.tag}>, not <prestashop>"),
            status=status,
            permanent=permanent,
        )
    return root


def parse_errors(body: bytes) -> list[tuple[str, str]]:
    """``(code, message)`` pairs of a PrestaShop error body; [] when it is not one."""
    try:
        root = parse_xml(body, status=500, label="")
    except ShopResponseError:
        return []
    return [
        (text_of(error.find("code")), text_of(error.find("message")))
        for error in root.iterfind("errors/error")
    ]


def text_of(element: etree._Element | None) -> str:
    return "" if element is None or element.text is None else element.text.strip()


def _int(element: etree._Element | None) -> int:
    text = text_of(element)
    try:
        return int(Decimal(text)) if text else 0
    except InvalidOperation:
        raise ShopResponseError(f"expected a number, got {text[:40]!r}") from None


def _bool(element: etree._Element | None) -> bool:
    return text_of(element) in {"1", "true"}


def multilang(element: etree._Element | None) -> dict[int, str]:
    """Texts by language id; a field without ``<language>`` nodes comes back under id 0."""
    if element is None:
        return {}
    nodes = element.findall("language")
    if not nodes:
        return {0: (element.text or "").strip()}
    return {int(node.get("id", "0")): (node.text or "").strip() for node in nodes}


def _first_text(texts: dict[int, str]) -> str:
    return texts[min(texts)] if texts else ""


def parse_languages(root: etree._Element) -> list[ShopLanguage]:
    return [
        ShopLanguage(
            id=_int(node.find("id")),
            iso_code=text_of(node.find("iso_code")),
            name=text_of(node.find("name")),
            active=_bool(node.find("active")) if node.find("active") is not None else True,
        )
        for node in root.iterfind("languages/language")
    ]


def parse_categories(root: etree._Element) -> list[ShopCategory]:
    categories = []
    for node in root.iterfind("categories/category"):
        names = multilang(node.find("name"))
        parent_id = _int(node.find("id_parent"))
        categories.append(
            ShopCategory(
                id=_int(node.find("id")),
                parent_id=parent_id,
                name=_first_text(names),
                depth=_int(node.find("level_depth")),
                active=_bool(node.find("active")),
                # Root (no parent) and each shop's home ("All products") hold no products.
                is_root=_bool(node.find("is_root_category")) or parent_id == 0,
                names={k: v for k, v in names.items() if k},
            )
        )
    return categories


def parse_manufacturers(root: etree._Element) -> list[ShopManufacturer]:
    return [
        ShopManufacturer(
            id=_int(node.find("id")), name=text_of(node.find("name")), active=_bool(node.find("active"))
        )
        for node in root.iterfind("manufacturers/manufacturer")
    ]


def parse_product_refs(root: etree._Element) -> list[ShopProductRef]:
    return [
        ShopProductRef(
            id=_int(node.find("id")),
            reference=text_of(node.find("reference")),
            ean13=text_of(node.find("ean13")),
            active=_bool(node.find("active")),
        )
        for node in root.iterfind("products/product")
    ]


def parse_product_prices(root: etree._Element) -> list[tuple[int, Decimal, bool, str]]:
    """``(id, price, active, reference)`` of a product list displayed with those fields."""
    rows = []
    for node in root.iterfind("products/product"):
        price = text_of(node.find("price")) or "0"
        try:
            amount = Decimal(price)
        except InvalidOperation:
            raise ShopResponseError(f"product price {price[:40]!r} is not a number") from None
        rows.append(
            (_int(node.find("id")), amount, _bool(node.find("active")), text_of(node.find("reference")))
        )
    return rows


def parse_stock_rows(root: etree._Element) -> list[StockRow]:
    return [
        StockRow(**{name: _int(node.find(name)) for name in STOCK_PUT_FIELDS})
        for node in root.iterfind("stock_availables/stock_available")
    ]


def parse_product_id(root: etree._Element) -> int:
    product_id = _int(root.find("product/id"))
    if product_id <= 0:
        raise ShopResponseError("the shop answered the create without a product id")
    return product_id


def parse_permissions(root: etree._Element) -> dict[str, tuple[str, ...]]:
    """Resources of the ``GET /api/`` listing and the methods the key may use on each."""
    api = root.find("api")
    if api is None:
        raise ShopResponseError("the API root listing has no <api> element")
    permissions = {}
    for node in api:
        if not isinstance(node.tag, str):
            continue
        permissions[node.tag] = tuple(m for m in METHODS if node.get(m.lower()) == "true")
    return permissions
