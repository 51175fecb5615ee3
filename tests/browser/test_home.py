"""In a browser at 1400 px: the home page after real ingests, and a chart on a product page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Product
from tests.procurement.test_ingest import LINES, Feed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ingested(feed_server, settings):
    """Two suppliers' feeds ingested for real (the reader, the writer, the catalog step), one
    of them twice with a price change: runs to list, offers to chart."""
    settings.GENESYS_PRICE_CHANGE_LIMIT = Decimal("10")
    first = Feed(feed_server, name="Distrilusa")
    first.serve(*LINES)
    first.ingest()
    first.serve(*(line.replace("329,00", "319,00") for line in LINES))
    first.ingest()
    second = Feed(feed_server, name="Nortech", path="/nortech.csv")
    second.serve(LINES[0].replace("DL1", "NT1").replace("329,00", "335,00"), "bad;line")
    second.ingest()
    return first, second


def test_the_home_page_says_what_happened_and_what_needs_the_operator(
    page, browser_user, login, screenshot, ingested
):
    login(page, browser_user("operator"))
    suppliers = page.locator("#home-suppliers")
    assert suppliers.is_visible()
    assert suppliers.locator("tr", has_text="Distrilusa").count() == 1
    assert suppliers.locator("tr", has_text="Nortech").locator("svg").count() == 1  # its sparkline
    assert page.locator("#needs-you").is_visible()
    assert page.locator("#home-stream svg, #home-stream .genesys-chart-empty").count() >= 1
    assert page.locator("#home-health").is_visible()
    # Everything the operator reads first fits the 1400 px screen: no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    # ... and reads across: no heading squeezed to a letter per line (Django's dashboard CSS gives
    # every header cell 100 % of a 600 px column).
    narrowest = page.evaluate(
        "Math.min(...[...document.querySelectorAll('#genesys-home th')].map(th => th.clientWidth))"
    )
    assert narrowest >= 48
    screenshot(page, "home-after-ingests")


def test_a_product_page_charts_its_price_and_stock(page, browser_user, login, screenshot, ingested):
    product = Product.objects.get(name__startswith="Galaxy A55")
    login(page, browser_user("operator"))
    page.goto(f"/admin/catalog/product/{product.pk}/change/")
    chart = page.locator("#product-history svg[role=img]").first
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    assert chart.get_attribute("aria-label")
    assert page.locator("#product-history path").count() >= 2  # the two suppliers' prices at least
    screenshot(page, "product-history-chart")
