"""The fake shop's starting data: two languages, an electronics category tree, brands.

Ids are assigned in this order, so Root is 1 and the home category ("Todos os produtos") is 2,
as in a fresh PrestaShop.
"""

from __future__ import annotations

from prestashop.fake.catalog import now
from prestashop.fake.store import FakeStore, new_doc
from prestashop.fields import link_rewrite

LANGUAGES = (
    # id, iso_code, name, locale
    (1, "pt", "Português (Portuguese)", "pt-PT"),
    (2, "en", "English (English)", "en-US"),
)

# (Portuguese, English, children); a name starting with "-" is an inactive category.
CATEGORY_TREE: tuple[tuple[str, str, tuple], ...] = (
    ("Informática", "Computers", (
        ("Portáteis", "Laptops", ()),
        ("Computadores de Secretária", "Desktops", ()),
        ("Monitores", "Monitors", ()),
        ("Periféricos", "Peripherals", (
            ("Teclados", "Keyboards", ()),
            ("Ratos", "Mice", ()),
            ("Webcams", "Webcams", ()),
        )),
        ("Armazenamento", "Storage", ()),
        ("Componentes", "Components", ()),
    )),
    ("Imagem e Som", "TV and Audio", (
        ("Televisores", "Televisions", ()),
        ("Barras de Som", "Soundbars", ()),
        ("Auscultadores", "Headphones", ()),
    )),
    ("Grandes Eletrodomésticos", "Large Appliances", (
        ("Máquinas de Lavar Roupa", "Washing Machines", ()),
        ("Máquinas de Secar Roupa", "Tumble Dryers", ()),
        ("Frigoríficos", "Fridges", ()),
        ("Máquinas de Lavar Loiça", "Dishwashers", ()),
        ("Fornos", "Ovens", ()),
    )),
    ("Pequenos Eletrodomésticos", "Small Appliances", (
        ("Cozinha", "Kitchen", ()),
        ("Casa", "Home", ()),
        ("Cuidado Pessoal", "Personal Care", ()),
    )),
    ("Telemóveis", "Phones", (
        ("Smartphones", "Smartphones", ()),
        ("Wearables", "Wearables", ()),
        ("Acessórios", "Accessories", ()),
    )),
    ("Gaming", "Gaming", (
        ("Consolas", "Consoles", ()),
        ("Jogos", "Games", ()),
    )),
    ("-Outlet", "Outlet", ()),
)  # fmt: skip

MANUFACTURERS = (
    "Samsung", "LG", "Bosch", "Philips", "Apple", "Lenovo", "HP", "ASUS", "Sony", "Logitech", "Xiaomi",
    "Siemens", "Whirlpool", "Teka", "Dyson", "Acer", "Dell", "JBL", "Nintendo", "Microsoft", "Braun",
    "-Candy",
)  # fmt: skip


def _category(store: FakeStore, *, parent: int, depth: int, names: tuple[str, str], active: bool,
              is_root: bool = False, position: int = 0) -> int:  # fmt: skip
    doc = new_doc()
    stamp = now()
    doc["f"].update(
        {
            "id_parent": str(parent),
            "level_depth": str(depth),
            "nb_products_recursive": "0",
            "active": "1" if active else "0",
            "id_shop_default": "1",
            "is_root_category": "1" if is_root else "0",
            "position": str(position),
            "date_add": stamp,
            "date_upd": stamp,
        }
    )
    doc["l"] = {
        "name": {"1": names[0], "2": names[1]},
        "link_rewrite": {"1": link_rewrite(names[0]), "2": link_rewrite(names[1])},
        "description": {"1": "", "2": ""},
        "meta_title": {"1": "", "2": ""},
    }
    return store.insert("categories", doc)


def _children(store: FakeStore, parent: int, depth: int, tree: tuple) -> None:
    for position, (pt, en, children) in enumerate(tree):
        active = not pt.startswith("-")
        category_id = _category(
            store, parent=parent, depth=depth, names=(pt.lstrip("-"), en), active=active, position=position
        )
        _children(store, category_id, depth + 1, children)


def seed(store: FakeStore) -> None:
    """Fill an empty store; a store that already holds data is left alone (persistent state)."""
    with store.transaction():
        if not store.is_empty():
            return
        for language_id, iso_code, name, locale in LANGUAGES:
            doc = new_doc()
            doc["f"].update(
                {
                    "name": name,
                    "iso_code": iso_code,
                    "locale": locale,
                    "language_code": locale.lower(),
                    "active": "1",
                    "is_rtl": "0",
                    "date_format_lite": "Y-m-d" if iso_code == "en" else "d/m/Y",
                    "date_format_full": "Y-m-d H:i:s" if iso_code == "en" else "d/m/Y H:i:s",
                }
            )
            store.insert("languages", doc, object_id=language_id)
        root = _category(store, parent=0, depth=0, names=("Raiz", "Root"), active=True)
        home = _category(
            store,
            parent=root,
            depth=1,
            names=("Todos os produtos", "All products"),
            active=True,
            is_root=True,
        )
        _children(store, home, 2, CATEGORY_TREE)
        stamp = now()
        for name in MANUFACTURERS:
            doc = new_doc()
            doc["f"].update(
                {
                    "active": "0" if name.startswith("-") else "1",
                    "name": name.lstrip("-"),
                    "link_rewrite": link_rewrite(name.lstrip("-")),
                    "date_add": stamp,
                    "date_upd": stamp,
                }
            )
            doc["l"] = {"description": {"1": "", "2": ""}, "short_description": {"1": "", "2": ""},
                        "meta_title": {"1": "", "2": ""}}  # fmt: skip
            store.insert("manufacturers", doc)
