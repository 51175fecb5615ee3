"""Mapping Genesys categories and brands to the shop's, from the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Category
from prestashop.models import PrestashopCategory
from prestashop.services.reference import shop_reference_sync
from tests.factories import BrandFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:catalog_category_changelist"
SEARCH = "admin:prestashop_prestashopcategory_search"


@pytest.fixture
def shop_tree(make_client):
    """The fake shop's categories and manufacturers, synced over HTTP."""
    shop_reference_sync(client=make_client("r_genesys", page_size=50))


def search(client, **params):
    response = client.get(reverse(SEARCH), params)
    assert response.status_code == 200
    return response.json()


def test_the_search_finds_shop_categories_by_any_words_of_their_path(staff_client, shop_tree):
    found = search(staff_client, term="portateis INFORM")
    assert found["results"] == [{"id": "4", "text": "Informática > Portáteis (#4)"}]
    assert [r["text"] for r in search(staff_client, term="monit")["results"]] == [
        "Informática > Monitores (#6)"
    ]
    assert search(staff_client, term="4")["results"][0]["id"] == "4"
    first, second = search(staff_client, term=""), search(staff_client, term="", page=2)
    assert len(first["results"]) == 20 and first["pagination"]["more"] is True
    assert len(second["results"]) == 12 and second["pagination"]["more"] is False
    outlet = search(staff_client, term="outlet")["results"][0]["text"]
    assert outlet == "Outlet (#34) — inactive in the shop"


def test_the_search_needs_a_staff_login(client, shop_tree):
    assert client.get(reverse(SEARCH), {"term": "x"}).status_code == 302


def test_the_change_form_maps_with_the_search_widget(staff_client, shop_tree):
    category = CategoryFactory(name="Portáteis")
    url = reverse("admin:catalog_category_change", args=[category.pk])
    page = staff_client.get(url).content.decode()
    assert f'data-ajax--url="{reverse(SEARCH)}"' in page and "admin-autocomplete" in page

    response = staff_client.post(url, {"name": "Portáteis", "id_ps_category": "4", "auto_import": "on"})

    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.id_ps_category, category.ps_category_name, category.auto_import) == (
        4,
        "Informática > Portáteis",
        True,
    )
    assert "Informática &gt; Portáteis (#4)" in staff_client.get(url).content.decode()  # the selected option


def test_auto_import_without_a_mapping_is_refused_with_a_clear_message(staff_client, shop_tree):
    category = CategoryFactory(name="Casa")
    url = reverse("admin:catalog_category_change", args=[category.pk])
    response = staff_client.post(url, {"name": "Casa", "id_ps_category": "", "auto_import": "on"})
    assert response.status_code == 200
    assert "map it to a shop category first" in response.content.decode()
    assert Category.objects.get(pk=category.pk).auto_import is False

    # The same rule in the changelist, where the form holds only the auto-import box.
    response = staff_client.post(
        reverse(CHANGELIST),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(category.pk),
            "form-0-auto_import": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 200
    assert "map it to a shop category first" in response.content.decode()
    assert Category.objects.get(pk=category.pk).auto_import is False


def test_a_category_gone_from_the_shop_cannot_be_chosen(staff_client, shop_tree):
    PrestashopCategory.objects.filter(pk=5).update(active=False, removed_at=timezone.now())
    category = CategoryFactory(name="Desktops")
    url = reverse("admin:catalog_category_change", args=[category.pk])
    response = staff_client.post(url, {"name": "Desktops", "id_ps_category": "5"})
    assert "cannot receive products" in response.content.decode()
    assert Category.objects.get(pk=category.pk).id_ps_category is None


def test_many_categories_are_mapped_at_once_through_an_intermediate_page(staff_client, shop_tree):
    first, second, other = (CategoryFactory(name=n) for n in ("Portáteis", "Ultrabooks", "Jogos"))
    selected = [first.pk, second.pk]
    url = reverse(CHANGELIST)

    page = staff_client.post(url, {"action": "map_to_shop_category", "_selected_action": selected})

    assert page.status_code == 200
    content = page.content.decode()
    assert "Portáteis" in content and "Ultrabooks" in content and "Jogos" not in content
    assert f'data-ajax--url="{reverse(SEARCH)}"' in content

    response = staff_client.post(
        url,
        {
            "action": "map_to_shop_category",
            "_selected_action": selected,
            "apply": "1",
            "id_ps_category": "4",
            "auto_import": "on",
        },
        follow=True,
    )

    assert "2 categories mapped to the shop category." in response.content.decode()
    for category in (first, second):
        category.refresh_from_db()
        assert (category.id_ps_category, category.ps_category_name, category.auto_import) == (
            4,
            "Informática > Portáteis",
            True,
        )
    assert Category.objects.get(pk=other.pk).id_ps_category is None


def test_mapping_many_to_an_unknown_category_shows_the_error(staff_client, shop_tree):
    category = CategoryFactory()
    response = staff_client.post(
        reverse(CHANGELIST),
        {
            "action": "map_to_shop_category",
            "_selected_action": [category.pk],
            "apply": "1",
            "id_ps_category": "999",
        },
    )
    assert response.status_code == 200  # the intermediate page again, with the error
    assert "unknown; synchronise the shop" in response.content.decode()


def test_unmapped_categories_are_listed_with_their_product_counts(staff_client, shop_tree):
    busy = CategoryFactory(name="Drones")
    ProductFactory.create_batch(3, category=busy)
    ProductFactory(category=busy, id_ecommerce=77)
    CategoryFactory(name="Empty corner")
    mapped = CategoryFactory(name="Mapped one", id_ps_category=4)
    ProductFactory(category=mapped)

    page = staff_client.get(reverse(CHANGELIST), {"shop_mapping": "unmapped_with_products"}).content.decode()

    assert "Drones" in page and "Empty corner" not in page and "Mapped one" not in page
    assert '<td class="field-product_count">4</td>' in page
    assert '<td class="field-products_not_in_shop">3</td>' in page
    unmapped = staff_client.get(reverse(CHANGELIST), {"shop_mapping": "unmapped"}).content.decode()
    assert "Empty corner" in unmapped and "Drones" in unmapped and "Mapped one" not in unmapped


def test_mappings_to_categories_gone_from_the_shop_are_flagged(staff_client, shop_tree):
    PrestashopCategory.objects.filter(pk=5).update(active=False, removed_at=timezone.now())
    CategoryFactory(name="Old desktops", id_ps_category=5)
    CategoryFactory(name="Fine", id_ps_category=4)
    page = staff_client.get(reverse(CHANGELIST), {"shop_mapping": "broken"}).content.decode()
    assert "Old desktops" in page and "gone from the shop" in page and "Fine" not in page


def test_auto_import_actions_skip_unmapped_categories(staff_client, shop_tree):
    mapped, unmapped = CategoryFactory(id_ps_category=4), CategoryFactory()
    response = staff_client.post(
        reverse(CHANGELIST),
        {"action": "enable_auto_import", "_selected_action": [mapped.pk, unmapped.pk]},
        follow=True,
    )
    content = response.content.decode()
    assert "Auto-import turned on for 1 category." in content
    assert "1 category has no shop category and was left without auto-import." in content
    assert Category.objects.get(pk=mapped.pk).auto_import is True
    assert Category.objects.get(pk=unmapped.pk).auto_import is False

    staff_client.post(reverse(CHANGELIST), {"action": "unmap", "_selected_action": [mapped.pk]})
    mapped.refresh_from_db()
    assert (mapped.id_ps_category, mapped.ps_category_name, mapped.auto_import) == (None, "", False)


def test_brands_show_their_shop_manufacturer_and_unmatched_ones_are_listed(staff_client, shop_tree):
    BrandFactory(name="LENOVO ")
    BrandFactory(name="Bang & Olufsen")
    BrandFactory(name="candy")  # inactive in the shop, still matched
    url = reverse("admin:catalog_brand_changelist")

    unmatched = staff_client.get(url, {"shop_match": "no"}).content.decode()
    matched = staff_client.get(url, {"shop_match": "yes"}).content.decode()

    assert "Bang &amp; Olufsen" in unmatched and "LENOVO" not in unmatched
    assert "Lenovo (#6)" in matched and "Candy (#22)" in matched and "Olufsen" not in matched


def test_the_shop_lists_are_browsable(staff_client, shop_tree):
    CategoryFactory(id_ps_category=4)
    page = staff_client.get(reverse("admin:prestashop_prestashopcategory_changelist"), {"q": "portateis"})
    assert "Informática &gt; Portáteis" in page.content.decode()
    assert staff_client.get(reverse("admin:prestashop_prestashopmanufacturer_changelist")).status_code == 200


def test_categories_are_mapped_to_the_shop_category_with_the_same_path(staff_client, shop_tree):
    parent = CategoryFactory(name="INFORMATICA")
    laptops = CategoryFactory(name="portáteis", parent=parent)
    odd = CategoryFactory(name="Drones de corrida")
    response = staff_client.post(
        reverse(CHANGELIST),
        {"action": "map_by_path", "_selected_action": [parent.pk, laptops.pk, odd.pk]},
        follow=True,
    )
    laptops.refresh_from_db()
    odd.refresh_from_db()
    assert (laptops.id_ps_category, laptops.ps_category_name) == (4, "Informática > Portáteis")
    assert laptops.auto_import is False  # mapping alone creates nothing in the shop
    assert odd.id_ps_category is None
    page = response.content.decode()
    assert "2 categories mapped" in page and "Drones de corrida" in page
