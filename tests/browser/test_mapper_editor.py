"""The mapper editor in a real browser: an integrator changes a field's source, sees the preview
rows follow without a page load, and saves."""

import pytest

from procurement.models import FeedMapper
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "Referencia;EAN;Marca;RefFab;Designacao;Preco;PVP;Stock\n"
    "A1;5600000010075;Samsung;SM-1;Galaxy A55;342,16;399,00;Sim\n"
    "A2;5600000010143;LG;LG-2;OLED 55;1005,50;1199,00;3\n"
)
PROFILE = {
    "fields": {
        "sku": "Referencia",
        "gtin": "EAN",
        "brand": "Marca",
        "partnumber": "RefFab",
        "name": "Designacao",
        "price": {"source": "Preco", "transforms": [{"type": "decimal", "decimal_separator": ","}]},
        "stock": {"source": "Stock", "transforms": [{"type": "stock", "available_quantity": 5}]},
    },
    "meta": "none",
}


def test_an_integrator_changes_a_source_sees_the_rows_follow_and_saves(
    page, browser_user, login, screenshot, feeds_root
):
    (feeds_root / "tarifa.csv").write_text(CSV, encoding="utf-8")
    feed = SupplierFeedFactory(
        supplier=SupplierFactory(name="Distrilusa"),
        name="Tarifa",
        source_url="file:tarifa.csv",
        format="csv",
        format_options={"delimiter": ";"},
    )
    FeedMapperFactory(feed=feed, profile=PROFILE)
    login(page, browser_user("integrator"))

    page.goto(f"/admin/procurement/supplierfeed/{feed.pk}/change/")
    page.click("a[href$='/mapper/']")
    preview = page.locator("#mapper-preview")
    assert "342,1600" in preview.inner_text()  # pt-PT writes decimals with a comma
    assert page.locator("#mapper-sources option[value=PVP]").count() == 1

    price = page.locator("input[name='f.price.source']").first
    price.fill("PVP")
    price.press("Tab")  # the change event: the script posts the form and swaps the new one in
    page.locator("#mapper-editor[data-version='1']").wait_for()
    assert "1199,0000" in preview.inner_text()
    assert "/mapper/" in page.url  # no page load: the form was swapped in place
    screenshot(page, "mapper-editor-source-changed")

    page.click("#mapper-editor button[value=save]")
    page.wait_for_url(f"**/supplierfeed/{feed.pk}/change/")
    assert page.locator(".messagelist .success").is_visible()
    assert FeedMapper.objects.get(feed=feed).profile["fields"]["price"]["source"] == "PVP"
