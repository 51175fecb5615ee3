"""Identity conflicts and price outliers through the real ingest: real feeds over HTTP, the real
reader and writer, the real database. The feeds are modelled on real supplier feeds that merged a
9,792 € floor sander with its 11.10 € pads, and a 1 L with a 5 L pack, under one part number."""

from decimal import Decimal

import pytest

from catalog.gtin import gtin_check_digit
from catalog.models import Product
from procurement.models import FeedRun, IdentityConflict, SupplierItem
from procurement.services.ingest import feed_ingest
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory

pytestmark = pytest.mark.django_db
D = Decimal
Hold = SupplierItem.HoldReason

MERCHANT_PROFILE = {
    "fields": {
        "sku": "g:id",
        "gtin": "g:gtin",
        "partnumber": "g:mpn",
        "brand": "g:brand",
        "name": "title",
        "price": {
            "source": "g:price",
            "transforms": [{"type": "currency", "expect": "EUR"}, {"type": "decimal"}],
        },
        "stock": {"source": "g:availability", "transforms": [{"type": "stock", "available_quantity": 3}]},
    },
    "meta": "none",
}


def ean(n: int) -> str:
    body = f"560{n:09d}"
    return f"{body}{gtin_check_digit(body)}"


def item(
    sku: str, title: str, price: str, *, mpn: str = "068063", brand: str = "Lägler", gtin: str = ""
) -> str:
    gtin_tag = f"<g:gtin>{gtin}</g:gtin>"  # empty when none: present, so no missing-source warning
    return (
        f"<item><g:id>{sku}</g:id><title>{title}</title><g:brand>{brand}</g:brand><g:mpn>{mpn}</g:mpn>"
        f"{gtin_tag}<g:price>{price} EUR</g:price><g:availability>in stock</g:availability></item>"
    )


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">'
        f"<channel><title>Shop</title>{''.join(items)}</channel></rss>"
    ).encode()


class MerchantFeed:
    def __init__(self, server, name="Maquinaria", path="/merchant.xml"):
        self.server, self.path = server, path
        self.feed = SupplierFeedFactory(
            supplier=SupplierFactory(name=name),
            source_url=server.url(path),
            format="xml",
            format_options={"item_tag": "item", "timeout": 5, "retry_backoff": 0.01},
        )
        FeedMapperFactory(feed=self.feed, profile=MERCHANT_PROFILE)

    def serve(self, *items: str) -> None:
        self.server.route(self.path, body=rss(*items))

    def ingest(self, **kwargs) -> FeedRun:
        run = feed_ingest(feed_id=self.feed.pk, triggered_by="test", **kwargs)
        run.refresh_from_db()
        return run


@pytest.fixture
def merchant(feed_server):
    return MerchantFeed(feed_server)


@pytest.fixture
def other_supplier(feed_server):
    return MerchantFeed(feed_server, name="Outro", path="/outro.xml")


SANDER_GROUP = [
    item("HUM-1", "Lägler Hummel floor sander 230 V", "9792.00"),
    item("TRI-1", "Lägler Trio three-disc sanding machine", "2892.00"),
    *[item(f"PAD-{n}", f"Lägler sanding pads P{40 + 20 * n} (pack of 10)", "11.10") for n in range(16)],
]


def test_skus_sharing_a_part_number_with_wide_prices_are_held_not_merged_into_a_cheap_offer(merchant):
    merchant.serve(*SANDER_GROUP)
    run = merchant.ingest()
    assert run.status == FeedRun.Status.WARNING
    assert run.identity_conflicts == 1
    assert any("identity conflict" in w for w in run.warnings)
    offers = SupplierItem.objects.filter(feed=merchant.feed)
    assert offers.count() == 18
    assert set(offers.values_list("hold_reason", flat=True)) == {Hold.IDENTITY_CONFLICT}
    product = Product.objects.get()
    # Nothing is elected: the sander can never be sold at the pads' price.
    assert not hasattr(product, "active_offer") or product.active_offer is None
    conflict = IdentityConflict.objects.get()
    assert conflict.status == IdentityConflict.Status.OPEN
    assert len(conflict.skus) == 18 and conflict.run_id == run.pk
    assert any("9792" in reason and "11.1" in reason for reason in conflict.reasons)
    # The rows as the feed gave them are kept for the side-by-side review.
    sander = offers.get(sku="HUM-1")
    assert (sander.name_raw, sander.brand_raw, sander.partnumber_raw) == (
        "Lägler Hummel floor sander 230 V",
        "Lägler",
        "068063",
    )


def test_the_check_sees_every_chunk_of_the_run(merchant, settings):
    settings.INGEST_CHUNK_ROWS = 4
    # The sander comes last, four chunks after the first pads.
    merchant.serve(*SANDER_GROUP[2:], SANDER_GROUP[0])
    run = merchant.ingest()
    assert run.identity_conflicts == 1
    assert SupplierItem.objects.filter(hold_reason=Hold.IDENTITY_CONFLICT).count() == 17
    assert len(IdentityConflict.objects.get().skus) == 17


def test_a_sku_merged_in_an_earlier_run_is_part_of_the_group(merchant):
    merchant.serve(SANDER_GROUP[2])
    assert merchant.ingest().status == FeedRun.Status.SUCCESS
    pads = SupplierItem.objects.get(sku="PAD-0")
    assert pads.hold_reason == "" and Product.objects.get().active_offer.supplier_item_id == pads.pk
    merchant.serve(SANDER_GROUP[2], SANDER_GROUP[0])
    run = merchant.ingest()
    assert run.identity_conflicts == 1
    pads.refresh_from_db()
    assert pads.hold_reason == Hold.IDENTITY_CONFLICT
    product = Product.objects.get()
    product.refresh_from_db()
    assert not hasattr(product, "active_offer")


def test_pack_sizes_sharing_a_part_number_conflict(merchant):
    merchant.serve(
        item("BONA-1", "Bona Traffic HD verniz 1 L", "36.55", brand="Bona", mpn="GT310014"),
        item("BONA-5", "Bona Traffic HD verniz 5L", "182.76", brand="Bona", mpn="GT310014"),
    )
    run = merchant.ingest()
    assert run.identity_conflicts == 1
    reasons = IdentityConflict.objects.get().reasons
    assert any("volume" in reason for reason in reasons)
    assert set(SupplierItem.objects.values_list("hold_reason", flat=True)) == {Hold.IDENTITY_CONFLICT}


def test_pack_sizes_conflict_even_at_close_prices(merchant):
    merchant.serve(
        item("CAB-B", "Cabo HDMI 2.1 preto 2 m", "9.90", brand="Vivanco", mpn="47160"),
        item("CAB-W", "Cabo HDMI 2.1 branco 2 m", "9.90", brand="Vivanco", mpn="47160"),
    )
    run = merchant.ingest()
    assert run.identity_conflicts == 1
    assert any("colour" in reason for reason in IdentityConflict.objects.get().reasons)


def test_a_mistyped_gtin_for_one_brand_and_part_number_conflicts(merchant):
    merchant.serve(
        item("W-1", "Bosch Serie 4 WAN28282ES", "399.00", brand="Bosch", mpn="WAN28282ES", gtin=ean(5)),
        item(
            "W-2", "Bosch Serie 4 WAN28282ES", "389.00", brand="Bosch", mpn="WAN28282ES", gtin="5600000000059"
        ),
    )
    run = merchant.ingest()
    assert run.identity_conflicts == 1
    assert any("different GTINs" in reason for reason in IdentityConflict.objects.get().reasons)


def test_a_reused_gtin_on_different_items_conflicts(merchant):
    merchant.serve(
        item("R-1", "Samsung Galaxy A55 128 GB", "329.00", brand="Samsung", mpn="SM-A556B", gtin=ean(9)),
        item("R-2", "Capa silicone para Galaxy A55", "9.90", brand="Samsung", mpn="EF-PA556", gtin=ean(9)),
    )
    run = merchant.ingest()
    assert run.identity_conflicts == 1
    assert Product.objects.count() == 1
    assert SupplierItem.objects.filter(hold_reason=Hold.IDENTITY_CONFLICT).count() == 2


def test_two_skus_of_one_product_that_agree_are_merged_as_before(merchant):
    merchant.serve(
        item("A-1", "Samsung Galaxy A55 5G 128 GB", "329.00", brand="Samsung", mpn="SM-A556B"),
        item("A-2", "Galaxy A55 5G 128 GB Samsung", "325.00", brand="Samsung", mpn="SM-A556B"),
    )
    run = merchant.ingest()
    assert run.status == FeedRun.Status.SUCCESS and run.identity_conflicts == 0
    assert set(SupplierItem.objects.values_list("hold_reason", flat=True)) == {""}
    assert Product.objects.get().active_offer.unit_cost == D("325")
    assert not IdentityConflict.objects.exists()


def test_a_group_that_agrees_again_is_released_and_cleared(merchant):
    merchant.serve(
        item("BONA-1", "Bona Traffic HD 1 L", "36.55", brand="Bona", mpn="GT310014"),
        item("BONA-5", "Bona Traffic HD 5 L", "182.76", brand="Bona", mpn="GT310014"),
    )
    merchant.ingest()
    merchant.serve(
        item("BONA-1", "Bona Traffic HD 1 L", "36.55", brand="Bona", mpn="GT310014"),
        item("BONA-5", "Bona Traffic HD 1 L", "36.90", brand="Bona", mpn="GT310014"),
    )
    run = merchant.ingest()
    assert run.identity_conflicts == 0
    assert set(SupplierItem.objects.values_list("hold_reason", flat=True)) == {""}
    assert IdentityConflict.objects.get().status == IdentityConflict.Status.CLEARED
    assert Product.objects.get().active_offer.unit_cost == D("36.55")


# -- price outliers across suppliers -----------------------------------------------------------


def test_a_new_offer_far_below_the_other_suppliers_is_held_instead_of_winning(merchant, other_supplier):
    other_supplier.serve(item("O-1", "Lägler Hummel floor sander 230 V", "9792.00"))
    other_supplier.ingest()
    merchant.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "11.10"))
    run = merchant.ingest()
    assert run.status == FeedRun.Status.WARNING and run.price_outliers == 1
    offer = SupplierItem.objects.get(sku="HUM-1")
    assert offer.hold_reason == Hold.PRICE_OUTLIER
    assert "9792" in offer.hold_note
    assert Product.objects.get().active_offer.supplier_item.sku == "O-1"


def test_a_cheaper_offer_within_the_factor_wins_as_usual(merchant, other_supplier):
    other_supplier.serve(item("O-1", "Lägler Hummel floor sander 230 V", "9792.00"))
    other_supplier.ingest()
    merchant.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "8900.00"))
    run = merchant.ingest()
    assert run.price_outliers == 0
    assert Product.objects.get().active_offer.supplier_item.sku == "HUM-1"


def test_an_outlier_that_comes_back_in_line_is_released(merchant, other_supplier):
    other_supplier.serve(item("O-1", "Lägler Hummel floor sander 230 V", "9792.00"))
    other_supplier.ingest()
    merchant.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "11.10"))
    merchant.ingest()
    merchant.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "9500.00"))
    run = merchant.ingest()
    assert run.price_outliers == 0
    assert SupplierItem.objects.get(sku="HUM-1").hold_reason == ""
    assert Product.objects.get().active_offer.supplier_item.sku == "HUM-1"


def test_an_outlier_without_a_rival_any_more_is_released_when_its_row_changes(merchant, other_supplier):
    other_supplier.serve(item("O-1", "Lägler Hummel floor sander 230 V", "9792.00"))
    other_supplier.ingest()
    merchant.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "11.10"))
    merchant.ingest()
    other_supplier.feed.is_active = False
    other_supplier.feed.save()
    merchant.serve(item("HUM-1", "Lägler Hummel floor sander 230 V", "11.20"))
    merchant.ingest()
    assert SupplierItem.objects.get(sku="HUM-1").hold_reason == ""
