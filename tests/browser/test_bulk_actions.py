"""In a browser: an operator enables imported products in bulk, confirms the counts, and the
change reaches the (fake) shop through the sync."""

from __future__ import annotations

import pytest

from prestashop.fake import running_fake_shop
from prestashop.services.sync import stream_drain
from prestashop.webservice import WebserviceClient
from tests.factories import ProductFactory, SupplierItemFactory
from tests.prestashop.conftest import make_config

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop():
    with running_fake_shop() as fake:
        yield fake


def test_a_bulk_enable_reaches_the_shop(page, browser_user, login, screenshot, shop):
    products = []
    for n in range(3):
        shop_id = shop.add_product(reference=f"R{n}", price="1", quantity=0, active=False)
        product = ProductFactory(id_ecommerce=shop_id, is_enabled=False, name=f"Importado {n}")
        SupplierItemFactory(product=product, stock=4)
        products.append(product)
    login(page, browser_user("operator"))
    page.goto("/admin/catalog/product/?is_enabled__exact=0")
    for product in products:
        page.check(f"input[name=_selected_action][value='{product.pk}']")
    page.select_option("select[name=action]", "enable")
    page.click("button[name=index], .actions button[type=submit]")
    counts = page.locator("#bulk-counts")
    assert "3" in counts.inner_text()
    screenshot(page, "bulk-enable-confirmation")
    page.click("input[name=confirm]")
    page.wait_for_url("**/admin/catalog/product/**")
    assert page.locator(".messagelist .success").is_visible()
    client = WebserviceClient(config=make_config(shop, "webservice"))
    try:
        stream_drain(client=client)
    finally:
        client.close()
    for product in products:
        assert shop.product(product.id_ecommerce).active is True
    screenshot(page, "bulk-enable-done")
