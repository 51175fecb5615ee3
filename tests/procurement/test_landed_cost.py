"""Landed cost through the real path: a Czech feed with VAT-inclusive prices, a supplier's
shipping rules and an exchange rate -> ingest -> catalog step -> stream -> the fake shop."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.fx import Rate
from catalog.models import CurrencyRate, PriceApproval, Product, ProductActiveOffer, ProductSupplierEvent
from catalog.selectors import product_election_explain
from catalog.services.dirty import dirty_products_drain
from catalog.services.rates import currency_rates_store
from prestashop.fake import running_fake_shop
from prestashop.r_genesys import RGenesysClient
from prestashop.services.sync import stream_drain
from procurement.models import FeedRun, SupplierItem
from procurement.services.ingest import feed_ingest
from tests.factories import (
    CurrencyRateFactory,
    FeedMapperFactory,
    ProductFactory,
    SupplierFactory,
    SupplierFeedFactory,
)
from tests.prestashop.conftest import make_config

pytestmark = pytest.mark.django_db
D = Decimal
PROFILE = {"fields": {"sku": "sku", "gtin": "ean", "name": "name", "price": "price", "stock": "stock"}}
GTIN = "05600000010075"


@pytest.fixture
def shop():
    with running_fake_shop() as fake:
        client = RGenesysClient(config=make_config(fake, "r_genesys"))
        fake.send = lambda: stream_drain(client=client)
        yield fake
        client.close()


@pytest.fixture
def czech_feed(feed_server):
    """A Czech distributor: consumer prices in CZK with 21 % VAT; shipping by weight, free
    above 1,000 EUR."""
    supplier = SupplierFactory(
        name="Praha Elektro",
        margin=D("0.20"),
        shipping_weight_table=[{"up_to_kg": "2", "amount": "4.50"}, {"up_to_kg": "30", "amount": "9.50"}],
        free_shipping_above=D("1000"),
    )
    feed = SupplierFeedFactory(
        supplier=supplier,
        source_url=feed_server.url("/cenik.csv"),
        format_options={"delimiter": ";", "timeout": 5, "retry_backoff": 0.01},
        currency="CZK",
        prices_include_vat=True,
        vat_rate=D("0.21"),
    )
    FeedMapperFactory(feed=feed, profile=PROFILE)

    def serve(*lines):
        feed_server.route(
            "/cenik.csv", body=("sku;ean;name;price;stock\n" + "\n".join(lines) + "\n").encode()
        )

    feed.serve = serve
    return feed


def ingest(feed) -> FeedRun:
    run = feed_ingest(feed_id=feed.pk, triggered_by="test")
    run.refresh_from_db()
    return run


def test_a_foreign_vat_inclusive_feed_is_priced_on_landed_cost_in_euros(shop, czech_feed):
    shop_id = shop.add_product(reference="WASHER", price="1", quantity=0, active=True)
    product = ProductFactory(gtin=GTIN, id_ecommerce=shop_id, weight=D("12.000"))
    CurrencyRateFactory(currency="CZK", rate=D("0.0395726"))
    czech_feed.serve("PE-1;5600000010075;Pračka 8 kg;9667.90;4")  # 7,990 CZK net

    run = ingest(czech_feed)

    assert run.status == FeedRun.Status.SUCCESS, (run.error, run.warnings)
    offer = SupplierItem.objects.get(sku="PE-1")
    assert offer.price == D("9667.9000")  # stored as the feed gave it
    active = ProductActiveOffer.objects.get(product=product)
    # 9,667.90 / 1.21 = 7,990 CZK x 0.0395726 = 316.185074 EUR + 9.50 (12 kg band) = 325.6851
    assert active.unit_cost == D("325.6851")
    assert active.unit_price_sent == D("390.82")  # + 20 %
    shop.send()
    fake = shop.product(shop_id)
    assert (fake.price, fake.quantity, fake.active) == (D("390.82"), 4, True)
    [explained] = product_election_explain(product=product)
    assert explained.verdict.startswith("cheapest landed cost in stock: 325.69 € = (9,667.90 CZK × 0.03957")  # noqa: RUF001
    assert explained.verdict.endswith("+ 9.50 € shipping")
    assert explained.landed_cost == D("325.6851") and explained.currency == "CZK"


def test_free_shipping_above_the_suppliers_threshold(shop, czech_feed):
    product = ProductFactory(gtin=GTIN, weight=D("12.000"))
    CurrencyRateFactory(currency="CZK", rate=D("0.04"))
    czech_feed.serve("PE-1;5600000010075;Pračka 8 kg;36300;4")  # 30,000 CZK net = 1,200 EUR
    ingest(czech_feed)
    assert ProductActiveOffer.objects.get(product=product).unit_cost == D("1200.0000")


def test_a_feed_without_a_recent_rate_fails_before_writing_anything(czech_feed, settings):
    settings.GENESYS_FX_MAX_AGE_DAYS = 5
    CurrencyRateFactory(currency="CZK", date=timezone.localdate() - timedelta(days=6))
    czech_feed.serve("PE-1;5600000010075;Pračka 8 kg;9667.90;4")

    run = ingest(czech_feed)

    assert run.status == FeedRun.Status.FAILED
    assert "CZK" in run.error and "5 days" in run.error and "Exchange rates" in run.error
    assert run.rows_read == 0
    assert not SupplierItem.objects.exists()
    assert not Product.objects.exists()
    assert not ProductSupplierEvent.objects.exists()


def test_a_new_rate_reprices_the_products_through_the_sweep(shop, czech_feed):
    shop_id = shop.add_product(reference="WASHER", price="1", quantity=0, active=True)
    product = ProductFactory(gtin=GTIN, id_ecommerce=shop_id, weight=D("1.000"))
    yesterday = timezone.localdate() - timedelta(days=1)
    CurrencyRateFactory(currency="CZK", rate=D("0.04"), date=yesterday, source=CurrencyRate.Source.ECB)
    czech_feed.serve("PE-1;5600000010075;Pračka 8 kg;1210;4")  # 1,000 CZK net: 40 + 4.50 = 44.50
    ingest(czech_feed)
    shop.send()
    assert shop.product(shop_id).price == D("53.40")

    currency_rates_store(rates=[Rate(timezone.localdate(), "CZK", D("0.045"))], source="ecb")
    drained = dirty_products_drain()

    assert drained.products == 1
    shop.send()
    assert shop.product(shop_id).price == D("59.40")  # (45 + 4.50) x 1.2

    # A rate that moves prices too far waits for approval like any other price jump.
    currency_rates_store(
        rates=[Rate(timezone.localdate() + timedelta(days=1), "CZK", D("0.09"))], source="ecb"
    )
    dirty_products_drain()
    shop.send()
    assert shop.product(shop_id).price == D("59.40")
    assert PriceApproval.objects.get(product=product).new_price == D("113.40")
