"""The shop's category tree and manufacturers copied into Genesys, over real HTTP and paged."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Category
from prestashop.models import PrestashopCategory, PrestashopManufacturer
from prestashop.services.reference import shop_category_paths, shop_reference_sync
from prestashop.types import ShopCategory
from tests.factories import CategoryFactory
from tests.prestashop.conftest import BACKENDS

pytestmark = pytest.mark.django_db


def test_paths_stop_at_root_home_missing_parents_and_cycles():
    categories = [
        ShopCategory(1, 0, "Root", 0, True, True),
        ShopCategory(2, 1, "Home", 1, True, True),
        ShopCategory(3, 2, "Informática", 2, True, False),
        ShopCategory(4, 3, "Portáteis", 3, True, False),
        ShopCategory(5, 99, "Orphan", 2, True, False),
        ShopCategory(6, 7, "A", 2, True, False),
        ShopCategory(7, 6, "B", 2, True, False),
    ]
    paths = shop_category_paths(categories)
    assert paths[1] == paths[2] == ()
    assert paths[4] == ("Informática", "Portáteis")
    assert paths[5] == ("Orphan",)
    assert paths[6] == ("B", "A") and paths[7] == ("B",)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_tree_and_manufacturers_are_stored_from_every_page(make_client, fake_shop, backend):
    client = make_client(backend, page_size=5)

    result = shop_reference_sync(client=client)

    listed = [r for r in fake_shop.requests if r.path.endswith(("categories", "getcategories"))]
    assert len(listed) > 5  # 32 categories, 5 a page
    assert (result.categories_created, result.manufacturers_created) == (result.categories, 22)
    usable = PrestashopCategory.objects.filter(is_root=False)
    assert usable.count() == 32
    laptops = PrestashopCategory.objects.get(pk=4)
    assert (laptops.full_path, laptops.depth, laptops.id_parent) == ("Informática > Portáteis", 2, 3)
    assert (
        laptops.names == {"1": "Portáteis", "2": "Laptops"}
        and laptops.search_path == "informatica > portateis"
    )
    keyboards = PrestashopCategory.objects.get(name="Teclados")
    assert (keyboards.full_path, keyboards.depth) == ("Informática > Periféricos > Teclados", 3)
    assert PrestashopCategory.objects.get(name="Informática").depth == 1
    assert PrestashopCategory.objects.get(name="Outlet").active is False
    if backend == "webservice":  # the Webservice lists Root and the home category too
        assert set(PrestashopCategory.objects.filter(is_root=True).values_list("pk", flat=True)) == {1, 2}
    candy = PrestashopManufacturer.objects.get(name="Candy")
    assert candy.active is False and candy.normalized_name == "candy"
    assert PrestashopManufacturer.objects.count() == 22


def test_a_second_sync_renames_deactivates_and_refreshes_mapped_names(make_client, fake_shop):
    client = make_client("r_genesys", page_size=10)
    shop_reference_sync(client=client)
    mapped = CategoryFactory(id_ps_category=4, ps_category_name="Informática > Portáteis", auto_import=True)
    orphaned = CategoryFactory(id_ps_category=5)
    doc = fake_shop.store.get("categories", 3)
    doc["l"]["name"]["1"] = "Computadores"
    fake_shop.store.save("categories", 3, doc)
    fake_shop.store.delete("categories", 5)
    fake_shop.store.delete("manufacturers", 22)

    result = shop_reference_sync(client=client)

    # Renaming "Informática" changes its own path and those of the 8 categories left under it.
    assert (result.categories_changed, result.categories_removed, result.categories_created) == (9, 1, 0)
    assert (result.manufacturers_removed, result.mapped_renamed, result.mapped_unusable) == (1, 2, 1)
    assert PrestashopCategory.objects.get(pk=3).full_path == "Computadores"
    # Paths are recomputed for the whole subtree, and mapped categories follow the shop's name.
    assert PrestashopCategory.objects.get(pk=4).full_path == "Computadores > Portáteis"
    mapped.refresh_from_db()
    assert mapped.ps_category_name == "Computadores > Portáteis" and mapped.auto_import
    gone = PrestashopCategory.objects.get(pk=5)
    assert gone.active is False and gone.removed_at is not None  # kept: a mapping points at it
    assert Category.objects.get(pk=orphaned.pk).id_ps_category == 5
    assert PrestashopManufacturer.objects.get(pk=22).removed_at is not None

    fake_shop.store.delete("categories", 6)
    assert shop_reference_sync(client=client).categories_removed == 1  # gone ones are not counted again


def test_the_command_prints_the_summary(shop_settings):
    out = StringIO()
    call_command("prestashop_sync_categories", stdout=out)
    assert "categories     34 in the shop: 34 new" in out.getvalue()
    assert "manufacturers  22 in the shop: 22 new" in out.getvalue()
