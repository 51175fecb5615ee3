"""Supplier ingest end to end: a real HTTP feed server, the real reader, the real database."""

from decimal import Decimal

import pytest

from catalog.gtin import gtin_check_digit
from catalog.models import (
    Brand,
    CatalogUpdateStream,
    Category,
    DirtyProduct,
    Product,
    ProductActiveOffer,
    ProductMeta,
    ProductSupplierEvent,
)
from genesys.models import Notification
from procurement.models import FeedRun, SupplierItem
from procurement.services.ingest import feed_ingest
from procurement.services.runs import IngestAlreadyRunning
from tests.factories import (
    FeedMapperFactory,
    FeedRunFactory,
    ProductFactory,
    SupplierFactory,
    SupplierFeedFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal

HEADER = "sku;ean;brand;mpn;name;family;price;stock;warranty"
PROFILE = {
    "fields": {
        "sku": "sku",
        "gtin": "ean",
        "brand": "brand",
        "partnumber": "mpn",
        "name": "name",
        "category": "family",
        "price": {
            "source": "price",
            "transforms": [{"type": "decimal", "decimal_separator": ",", "thousands_separator": "."}],
        },
        "stock": {"source": "stock", "transforms": [{"type": "stock", "available_quantity": 5}]},
    },
    "meta": ["warranty"],
}


def ean(n: int) -> str:
    body = f"560{n:09d}"
    return f"{body}{gtin_check_digit(body)}"


class Feed:
    """A supplier with one CSV feed served over HTTP; ``serve`` replaces the feed's content."""

    def __init__(self, server, name="Distrilusa", path="/tarifa.csv", **feed_kwargs):
        self.server = server
        self.path = path
        supplier = SupplierFactory(name=name, margin=D("0.2"))
        self.feed = SupplierFeedFactory(
            supplier=supplier,
            source_url=server.url(path),
            format="csv",
            format_options={"delimiter": ";", "timeout": 60, "retry_backoff": 0.01},
            **feed_kwargs,
        )
        FeedMapperFactory(feed=self.feed, profile=PROFILE)

    def serve(self, *lines: str, status: int = 200) -> None:
        self.server.route(self.path, status=status, body=("\n".join([HEADER, *lines]) + "\n").encode())

    def ingest(self, **kwargs) -> FeedRun:
        run = feed_ingest(feed_id=self.feed.pk, triggered_by="test", **kwargs)
        run.refresh_from_db()
        return run


@pytest.fixture
def distrilusa(feed_server):
    return Feed(feed_server)


@pytest.fixture
def nortech(feed_server):
    return Feed(feed_server, name="Nortech", path="/nortech.csv")


LINES = [
    f"DL1;{ean(1)};Samsung;SM-A556B;Galaxy A55 <b>5G</b>;Telemóveis > Smartphones;329,00;12;3 anos",
    f"DL2;{ean(2)};LG;OLED55C4;LG OLED evo C4 55;Imagem e Som > Televisores;1.149,00;Sim;2 anos",
    "DL3;;Bosch;WAN-28282 ES;Bosch Serie 4 8kg;Grandes Eletrodomésticos > Máquinas;399,90;0;2 anos",
]


def test_first_ingest_creates_products_brands_categories_offers_events_and_meta(distrilusa):
    distrilusa.serve(*LINES)
    run = distrilusa.ingest()
    assert run.status == FeedRun.Status.SUCCESS, (run.error, run.warnings)
    assert (run.rows_read, run.rows_valid, run.rows_rejected) == (3, 3, 0)
    assert (run.products_created, run.offers_created, run.events_created) == (3, 3, 3)
    assert set(Brand.objects.values_list("name", flat=True)) == {"Samsung", "LG", "Bosch"}
    tv = Category.objects.get(full_path="Imagem e Som > Televisores")
    assert tv.parent.full_path == "Imagem e Som"
    phone = Product.objects.get(gtin=ean(1).zfill(14))
    assert phone.name == "Galaxy A55 5G"  # HTML removed
    assert phone.category.full_path == "Telemóveis > Smartphones"
    washer = Product.objects.get(partnumber_normalized="WAN28282ES")
    assert washer.gtin is None and washer.brand.name == "Bosch"
    offer = SupplierItem.objects.get(sku="DL2")
    assert (offer.price, offer.stock, offer.last_read_run_id) == (D("1149.0000"), 5, run.pk)
    assert ProductMeta.objects.get(product=phone, key="warranty").value == "3 anos"
    assert set(ProductSupplierEvent.objects.values_list("reason", flat=True)) == {"init"}
    assert phone.active_offer.unit_price_sent == D("394.80")
    assert run.timings.keys() >= {"download", "parse", "write", "recompute"}
    assert run.bytes_downloaded > 0


def test_re_ingesting_an_unchanged_feed_changes_nothing_and_writes_no_events(distrilusa):
    distrilusa.serve(*LINES)
    first = distrilusa.ingest()
    columns = ("id", "price", "stock", "updated_at", "last_read_run_id", "missing_since", "raw_hash")
    before = list(SupplierItem.objects.order_by("id").values_list(*columns))
    events = ProductSupplierEvent.objects.count()
    run = distrilusa.ingest()
    assert run.status == FeedRun.Status.SUCCESS
    assert (run.offers_unchanged, run.offers_changed, run.offers_created, run.events_created) == (3, 0, 0, 0)
    assert (run.products_created, run.products_updated, run.stream_rows) == (0, 0, 0)
    assert ProductSupplierEvent.objects.count() == events
    # Not one offer row rewritten: the run's mark stays the first run's, and none is missing.
    assert list(SupplierItem.objects.order_by("id").values_list(*columns)) == before
    assert {(o[4], o[5]) for o in before} == {(first.pk, None)}


def test_price_and_stock_changes_write_change_events_with_old_and_new_values(distrilusa):
    distrilusa.serve(*LINES)
    distrilusa.ingest()
    Product.objects.filter(gtin=ean(1).zfill(14)).update(id_ecommerce=901)
    distrilusa.serve(LINES[0].replace("329,00;12", "319,50;0"), *LINES[1:])
    run = distrilusa.ingest()
    assert (run.offers_changed, run.offers_unchanged, run.events_created) == (1, 2, 1)
    event = ProductSupplierEvent.objects.get(reason="change")
    assert (event.old_price, event.new_price, event.old_stock, event.new_stock) == (
        D("329"),
        D("319.5"),
        12,
        0,
    )
    assert event.run_id == run.pk
    row = CatalogUpdateStream.objects.get(status="pending", product__id_ecommerce=901)
    assert row.reasons == ["ingest_supplier"]
    assert row.priority == CatalogUpdateStream.Priority.SOLD_OUT
    assert row.payload["shop"] == {"active": True, "price": "383.40", "quantity": 0}
    assert run.stream_rows == 1


def test_the_same_gtin_in_upc_and_ean13_forms_from_two_suppliers_is_one_product(distrilusa, nortech):
    upc = "036000291452"
    distrilusa.serve(f"A1;{upc};Kleenex;K-1;Tissues;Casa;2,00;10;")
    nortech.serve(f"N1;0{upc};KLEENEX;K1;Tissues box;Casa;1,90;4;")
    distrilusa.ingest()
    nortech.ingest()
    product = Product.objects.get()
    assert product.gtin == "00036000291452"
    assert product.name == "Tissues"  # the first supplier's name is not overwritten
    assert product.offers.count() == 2
    assert product.active_offer.supplier_item.sku == "N1"  # cheaper, in stock


def test_without_gtin_brand_and_part_number_match_whatever_the_spelling(distrilusa, nortech):
    distrilusa.serve("B1;;Bosch;WAN-28282 ES;Bosch Serie 4;Casa;399,00;2;")
    nortech.serve("N7;;BOSCH;wan28282es;Máquina Bosch;Casa;389,00;1;")
    distrilusa.ingest()
    nortech.ingest()
    assert Product.objects.count() == 1
    assert Brand.objects.count() == 1


def test_an_invalid_gtin_is_ignored_with_a_warning_and_brand_part_number_decide(distrilusa):
    existing = ProductFactory(gtin=None, brand=Brand.objects.create(name="LG"), partnumber="OLED55C4")
    distrilusa.serve("X1;5600000000009;LG;OLED55C4;TV;Casa;999,00;1;")
    run = distrilusa.ingest()
    assert SupplierItem.objects.get(sku="X1").product == existing
    assert run.warnings_count >= 1
    assert any("check digit" in w for w in run.warnings)


def test_a_gtin_arriving_later_fills_the_product_created_without_one(distrilusa, nortech):
    distrilusa.serve("B1;;Bosch;WAN28282ES;Bosch Serie 4;Casa;399,00;2;")
    distrilusa.ingest()
    nortech.serve(f"N7;{ean(7)};Bosch;WAN28282ES;Bosch;Casa;389,00;1;")
    nortech.ingest()
    product = Product.objects.get()
    assert product.gtin == ean(7).zfill(14)


def test_a_gtin_of_another_product_with_the_same_part_number_is_a_different_product(distrilusa, nortech):
    distrilusa.serve(f"B1;{ean(1)};Bosch;WAN28282ES;Bosch EU;Casa;399,00;2;")
    nortech.serve(f"N1;{ean(2)};Bosch;WAN28282ES;Bosch UK;Casa;389,00;1;")
    distrilusa.ingest()
    nortech.ingest()
    assert Product.objects.count() == 2


def test_rows_without_any_key_are_rejected_with_their_reason(distrilusa):
    distrilusa.serve("N1;;;;No identity;Casa;10,00;1;", *LINES)
    run = distrilusa.ingest()
    assert run.status == FeedRun.Status.WARNING
    assert (run.rows_valid, run.rows_rejected) == (3, 1)
    assert run.rejected_rows[0]["line"] == 2
    assert "no valid GTIN and no brand + part number" in run.rejected_rows[0]["reason"]
    assert not SupplierItem.objects.filter(sku="N1").exists()


def test_control_characters_in_a_feed_are_removed_with_warnings_not_a_failure(distrilusa):
    """One NUL byte used to fail the whole feed on PostgreSQL (DataError), on every retry."""
    distrilusa.serve(
        f"DL\x001;{ean(1)};Sam\x00sung;SM-A556B\x07;Galaxy\x00 A55;Tele\x1f > Smart\x00phones;"
        "329,00;12;3\x00 anos",
        f"DL2;{ean(2)};LG;OLED55C4;LG\x7f OLED;Imagem e Som;1.149,00;Sim;2 anos",
        f"DL3;{ean(3)};LG;X1;Rejected\x00;Casa;abc\x00;1;",
    )  # fmt: skip
    run = distrilusa.ingest()
    assert run.status == FeedRun.Status.WARNING, run.error
    assert (run.rows_valid, run.rows_rejected) == (2, 1)
    assert sorted(run.warnings) == [
        "line 2: brand: control characters removed",
        "line 2: category: control characters removed",
        'line 2: meta "warranty": control characters removed',
        "line 2: name: control characters removed",
        "line 2: partnumber: control characters removed",
        "line 2: sku: control characters removed",
        "line 3: name: control characters removed",
    ]
    assert run.rejected_rows[0]["reason"] == 'price: "abc\\x00" is not a number'
    assert set(SupplierItem.objects.values_list("sku", flat=True)) == {"DL1", "DL2"}
    phone = Product.objects.get(gtin=ean(1).zfill(14))
    assert (phone.name, phone.partnumber, phone.brand.name) == ("Galaxy A55", "SM-A556B", "Samsung")
    assert phone.category.full_path == "Tele > Smartphones"
    assert ProductMeta.objects.get(product=phone).value == "3 anos"
    assert Product.objects.get(gtin=ean(2).zfill(14)).name == "LG OLED"
    assert distrilusa.ingest().offers_unchanged == 2  # the cleaned rows are stable from run to run


def test_negative_and_absurd_values_are_rejected_rows(distrilusa):
    distrilusa.serve(
        f"N1;{ean(1)};A;B;Neg;Casa;-3,00;1;", f"N2;{ean(2)};A;C;Huge;Casa;99.999.999,00;1;",
        f"N3;{ean(3)};A;D;Neg stock;Casa;3,00;-2;", f"OK;{ean(4)};A;E;Fine;Casa;3,00;2;",
    )  # fmt: skip
    run = distrilusa.ingest()
    assert (run.rows_valid, run.rows_rejected) == (1, 3)
    assert list(SupplierItem.objects.values_list("sku", flat=True)) == ["OK"]


def test_a_zero_price_makes_the_offer_unsellable(distrilusa):
    distrilusa.serve(f"Z1;{ean(1)};A;B;Free;Casa;0,00;9;")
    distrilusa.ingest()
    product = Product.objects.get()
    assert SupplierItem.objects.get().price == 0
    assert not hasattr(product, "active_offer") or product.active_offer is None


def test_only_empty_product_fields_are_filled(distrilusa, nortech):
    product = ProductFactory(
        gtin=ean(5).zfill(14), name="Operator's name", description="", brand=None, partnumber=""
    )
    nortech.serve(f"N5;{ean(5)};Sony;WH1000XM5;Supplier name;Imagem e Som;279,00;3;")
    run = nortech.ingest()
    product.refresh_from_db()
    assert product.name == "Operator's name"
    assert (product.brand.name, product.partnumber, product.category.full_path) == (
        "Sony",
        "WH1000XM5",
        "Imagem e Som",
    )
    assert run.products_updated == 1


def test_duplicated_skus_last_line_wins_and_the_run_warns(distrilusa):
    distrilusa.serve(f"D1;{ean(1)};A;B;First;Casa;10,00;1;", f"D1;{ean(1)};A;B;Second;Casa;12,00;3;")
    run = distrilusa.ingest()
    offer = SupplierItem.objects.get(sku="D1")
    assert (offer.price, offer.stock) == (D("12"), 3)
    assert run.status == FeedRun.Status.WARNING
    assert any("more than once" in w for w in run.warnings)


def test_the_duplicate_sku_warning_names_the_first_skus(distrilusa, settings):
    settings.INGEST_CHUNK_ROWS = 3  # duplicates within a chunk and across chunks
    lines = [f"S{n};{ean(n)};A;B{n};Item {n};Casa;10,00;1;" for n in range(1, 9)]
    distrilusa.serve(*lines, *lines)
    run = distrilusa.ingest()
    [warning] = [w for w in run.warnings if "more than once" in w]
    assert warning == "8 SKUs were listed more than once; the last line of each won (S1, S2, S3, S4, S5, …)."


def test_categories_are_not_duplicated_by_case_or_accents(distrilusa, nortech):
    distrilusa.serve(f"A;{ean(1)};A;B;x;Informática > Portáteis;10,00;1;")
    nortech.serve(f"B;{ean(2)};A;C;y;informatica >  PORTATEIS ;10,00;1;")
    distrilusa.ingest()
    nortech.ingest()
    assert list(Category.objects.order_by("id").values_list("full_path", flat=True)) == [
        "Informática",
        "Informática > Portáteis",
    ]


def test_an_offer_moves_when_the_supplier_changes_its_gtin(distrilusa):
    distrilusa.serve(f"M1;{ean(1)};A;B;Old;Casa;10,00;1;")
    distrilusa.ingest()
    old = Product.objects.get()
    distrilusa.serve(f"M1;{ean(2)};A;Z;New;Casa;10,00;1;")
    distrilusa.ingest()
    new = Product.objects.exclude(pk=old.pk).get()
    assert SupplierItem.objects.get(sku="M1").product == new
    assert not hasattr(Product.objects.get(pk=old.pk), "active_offer") or True
    assert new.active_offer.supplier_item.sku == "M1"


# -- offers missing from the feed ----------------------------------------------------------------


def seed_three(feed):
    feed.serve(*LINES)
    feed.ingest()


def test_offers_missing_from_the_run_go_to_stock_zero_with_feed_missing_events(distrilusa):
    seed_three(distrilusa)
    distrilusa.serve(LINES[0], LINES[1])
    run = distrilusa.ingest()
    assert run.unseen_handling == "applied"
    zeroed = SupplierItem.objects.get(sku="DL3")  # was already at 0: no event
    assert zeroed.stock == 0
    assert not ProductSupplierEvent.objects.filter(reason="feed_missing").exists()
    distrilusa.serve(LINES[0], LINES[2])
    run = distrilusa.ingest()
    assert SupplierItem.objects.get(sku="DL2").stock == 0
    event = ProductSupplierEvent.objects.get(reason="feed_missing")
    assert (event.old_stock, event.new_stock, event.run_id) == (5, 0, run.pk)
    assert run.offers_zeroed == 1
    assert SupplierItem.objects.get(sku="DL2").last_read_run_id != run.pk  # when it was last read


def test_a_missing_offer_says_since_when_until_the_feed_lists_it_again(distrilusa):
    """Whether the feed still lists an offer is kept on the offer, written only when it changes."""
    seed_three(distrilusa)
    distrilusa.serve(LINES[0], LINES[1])
    first = distrilusa.ingest()
    dl3 = SupplierItem.objects.get(sku="DL3")  # was already at 0: dated, not zeroed
    assert first.started_at <= dl3.missing_since <= first.finished_at
    distrilusa.serve(LINES[0], LINES[2])
    second = distrilusa.ingest()
    offers = {o.sku: o for o in SupplierItem.objects.all()}
    assert offers["DL3"].missing_since is None  # its line as it was: mapped again, not skipped
    assert second.started_at <= offers["DL2"].missing_since <= second.finished_at
    assert offers["DL1"].missing_since is None
    distrilusa.serve(LINES[0], LINES[2])
    third = distrilusa.ingest()
    assert (third.offers_zeroed, third.offers_unchanged) == (0, 2)
    assert SupplierItem.objects.get(sku="DL2").missing_since == offers["DL2"].missing_since  # not rewritten


def test_a_feed_too_big_to_remember_zeroes_the_same_missing_offers(distrilusa, monkeypatch):
    """Without known items every line is mapped and marked, and the database says what is missing."""
    import procurement.services.ingest as ingest_service

    monkeypatch.setattr(ingest_service, "KNOWN_ITEMS_MAX", 1)
    seed_three(distrilusa)
    distrilusa.serve(LINES[0], LINES[2])
    run = distrilusa.ingest()
    assert (run.offers_zeroed, run.offers_unchanged) == (1, 2)
    offers = {o.sku: o for o in SupplierItem.objects.all()}
    assert (offers["DL2"].stock, offers["DL1"].last_read_run_id, offers["DL2"].last_read_run_id) == (
        0,
        run.pk,
        offers["DL2"].last_read_run_id,
    )
    assert offers["DL2"].missing_since is not None and offers["DL1"].missing_since is None


def test_an_offer_back_in_the_feed_as_it_was_gets_its_stock_back(distrilusa):
    """Zeroing a missing offer changes it: the same line listed again is a change, not a repeat."""
    seed_three(distrilusa)
    distrilusa.serve(LINES[0], LINES[2])
    distrilusa.ingest()
    assert SupplierItem.objects.get(sku="DL2").stock == 0
    distrilusa.serve(*LINES)
    run = distrilusa.ingest()
    assert SupplierItem.objects.get(sku="DL2").stock == 5
    assert (run.offers_changed, run.offers_unchanged) == (1, 2)
    event = ProductSupplierEvent.objects.filter(reason="change").get()
    assert (event.old_stock, event.new_stock) == (0, 5)
    product = Product.objects.get(gtin=ean(2).zfill(14))
    assert product.active_offer.stock_sent == 5


def test_a_server_trickling_the_feed_fails_the_run_at_the_deadline_and_zeroes_nothing(distrilusa):
    seed_three(distrilusa)
    before = list(SupplierItem.objects.order_by("sku").values_list("sku", "price", "stock"))
    body = (
        "\n".join([HEADER, *LINES[:1]] + [f"T{n};;A;B{n};T;Casa;1,00;1;" for n in range(300)]) + "\n"
    ).encode()
    distrilusa.server.route(distrilusa.path, body=body, trickle=0.5)  # ~75 minutes for the whole body
    distrilusa.feed.format_options = {**distrilusa.feed.format_options, "max_seconds": 1}
    distrilusa.feed.save()
    run = distrilusa.ingest()
    assert run.status == FeedRun.Status.FAILED
    url = distrilusa.server.url(distrilusa.path)
    assert run.error == f"{url}: the download took longer than 1 s (format_options.max_seconds)."
    assert (run.rows_read, run.offers_zeroed) == (0, 0)
    assert list(SupplierItem.objects.order_by("sku").values_list("sku", "price", "stock")) == before
    assert not ProductSupplierEvent.objects.filter(reason="feed_missing").exists()


def test_rows_rejected_with_a_readable_sku_keep_their_offer_as_it_was(distrilusa):
    """A bad price or stock is not a missing offer: zeroing it would hide what the supplier lists."""
    seed_three(distrilusa)
    distrilusa.serve(
        LINES[0].replace("329,00", "abc"),  # a bad price: kept
        LINES[2].replace("399,90", "0,00001"),  # rounds to 0: kept
        f"DL2;{ean(2)};LG",  # a ragged line: no SKU can be trusted, so DL2 counts as missing
        f"DL4;{ean(4)};A;B;New;Casa;1,00;1;",
        f"DL5;{ean(5)};A;C;New;Casa;1,00;1;",
    )
    run = distrilusa.ingest()
    assert (run.rows_valid, run.rows_rejected, run.unseen_handling) == (2, 3, "applied")
    kept = SupplierItem.objects.get(sku="DL1")
    assert (kept.price, kept.stock, kept.last_read_run_id) == (D("329"), 12, run.pk)
    assert any(w.startswith("2 offers whose rows were rejected keep") for w in run.warnings)
    assert SupplierItem.objects.get(sku="DL3").last_read_run_id == run.pk
    assert SupplierItem.objects.get(sku="DL2").stock == 0
    assert list(
        ProductSupplierEvent.objects.filter(reason="feed_missing").values_list("run_id", flat=True)
    ) == [run.pk]
    assert run.offers_zeroed == 1
    assert (
        "2 offers whose rows were rejected keep their last known price and stock "
        "(they are not counted as missing)." in run.warnings
    )
    assert Product.objects.get(gtin=ean(1).zfill(14)).active_offer.stock_sent == 12


def test_missing_from_a_feed_is_not_end_of_life(distrilusa):
    seed_three(distrilusa)
    distrilusa.serve(LINES[0])
    distrilusa.ingest(force_unseen=True)
    assert not Product.objects.filter(is_eol=True).exists()


def test_an_empty_feed_never_zeroes_the_catalog(distrilusa):
    seed_three(distrilusa)
    distrilusa.serve()  # header only
    run = distrilusa.ingest()
    assert run.unseen_handling == "skipped"
    assert run.status == FeedRun.Status.WARNING
    assert "no valid row" in run.warnings[0]
    assert SupplierItem.objects.filter(stock__gt=0).count() == 2


def test_a_skipped_guard_notifies_once_per_feed_and_hour(distrilusa):
    seed_three(distrilusa)
    distrilusa.serve()  # header only
    run = distrilusa.ingest()
    distrilusa.ingest()
    notification, throttled = Notification.objects.filter(kind="guard_skipped").order_by("id")
    assert notification.object_key == f"feed:{run.feed_id}" and not notification.throttled
    assert f"#{run.pk}" in notification.body and "no valid row" in notification.body
    assert notification.link == f"/admin/procurement/feedrun/{run.pk}/change/"
    assert throttled.throttled


def test_a_failed_download_never_zeroes_the_catalog_and_fails_the_run(distrilusa):
    seed_three(distrilusa)
    distrilusa.serve(status=500)
    run = distrilusa.ingest()
    assert run.status == FeedRun.Status.FAILED
    assert "500" in run.error
    assert run.unseen_handling == "skipped"
    assert SupplierItem.objects.filter(stock__gt=0).count() == 2
    # the failed run is what operators hear about ("run failed"), not the guard
    assert not Notification.objects.filter(kind="guard_skipped").exists()


def test_a_feed_much_smaller_than_the_last_good_one_skips_zeroing(distrilusa):
    distrilusa.serve(*[f"S{n};{ean(n)};A;P{n};N;Casa;10,00;5;" for n in range(1, 11)])
    distrilusa.ingest()
    distrilusa.serve(*[f"S{n};{ean(n)};A;P{n};N;Casa;10,00;5;" for n in range(1, 5)])
    run = distrilusa.ingest()
    assert run.unseen_handling == "skipped"
    assert "below 50%" in run.warnings[0]
    assert SupplierItem.objects.filter(stock=5).count() == 10


def test_an_operator_can_force_zeroing_for_one_run(distrilusa):
    distrilusa.serve(*[f"S{n};{ean(n)};A;P{n};N;Casa;10,00;5;" for n in range(1, 11)])
    distrilusa.ingest()
    distrilusa.serve(*[f"S{n};{ean(n)};A;P{n};N;Casa;10,00;5;" for n in range(1, 3)])
    run = distrilusa.ingest(force_unseen=True)
    assert (run.unseen_handling, run.force_unseen, run.offers_zeroed) == ("forced", True, 8)


def test_the_threshold_is_per_feed(feed_server):
    feed = Feed(feed_server, unseen_min_ratio=D("0.1"))
    feed.serve(*[f"S{n};{ean(n)};A;P{n};N;Casa;10,00;5;" for n in range(1, 11)])
    feed.ingest()
    feed.serve(*[f"S{n};{ean(n)};A;P{n};N;Casa;10,00;5;" for n in range(1, 3)])
    assert feed.ingest().unseen_handling == "applied"


# -- end of life, concurrency, dry runs ---------------------------------------------------------------


def test_stock_for_an_end_of_life_product_brings_it_back(distrilusa):
    product = ProductFactory(gtin=ean(1).zfill(14), is_eol=True, id_ecommerce=77)
    distrilusa.serve(f"E1;{ean(1)};A;B;Back;Casa;10,00;4;")
    run = distrilusa.ingest()
    product.refresh_from_db()
    assert product.is_eol is False
    assert ProductSupplierEvent.objects.filter(product=product, reason="eol_reverted", run=run).exists()
    row = CatalogUpdateStream.objects.get(product=product, status="pending")
    assert "eol_reverted" in row.reasons
    assert row.payload["shop"]["active"] is True


def test_a_second_ingest_of_the_same_feed_is_refused_and_says_so(distrilusa):
    running = FeedRunFactory(feed=distrilusa.feed, status=FeedRun.Status.RUNNING, finished_at=None)
    distrilusa.serve(*LINES)
    with pytest.raises(IngestAlreadyRunning, match=f"already running \\(run #{running.pk}"):
        distrilusa.ingest()
    assert not Product.objects.exists()
    assert FeedRun.objects.count() == 1


def test_a_dry_run_changes_nothing_and_records_what_would_happen(distrilusa):
    distrilusa.serve(*LINES)
    run = distrilusa.ingest(dry_run=True)
    assert run.dry_run is True
    assert (run.rows_valid, run.products_created, run.offers_created) == (3, 3, 3)
    assert not Product.objects.exists() and not SupplierItem.objects.exists() and not Brand.objects.exists()


def test_a_feed_without_an_active_mapper_fails_clearly(distrilusa):
    distrilusa.feed.mappers.update(is_active=False)
    distrilusa.serve(*LINES)
    run = distrilusa.ingest()
    assert run.status == FeedRun.Status.FAILED
    assert run.error == "The feed has no active mapper profile."


# -- unchanged items are recognised before mapping (procurement.feeds.known) ---------------------


def test_offers_remember_the_source_item_that_wrote_them(distrilusa):
    distrilusa.serve(*LINES)
    distrilusa.ingest()
    fingerprints = set(SupplierItem.objects.values_list("raw_hash", flat=True))
    assert len(fingerprints) == 3 and all(len(f) == 32 for f in fingerprints)


def test_a_new_mapper_profile_maps_every_item_again(distrilusa):
    without_names = {**PROFILE, "fields": {k: v for k, v in PROFILE["fields"].items() if k != "name"}}
    distrilusa.feed.mappers.update(profile=without_names)
    distrilusa.serve(*LINES)
    distrilusa.ingest()
    assert set(Product.objects.values_list("name", flat=True)) == {""}
    distrilusa.feed.mappers.update(profile=PROFILE)
    run = distrilusa.ingest()  # the same feed, a profile that now maps the name
    assert run.products_updated == 3
    assert Product.objects.get(gtin=ean(1).zfill(14)).name == "Galaxy A55 5G"
    assert (run.offers_changed, run.events_created) == (3, 0)  # same price and stock: no events


def test_a_duplicated_sku_whose_last_line_is_unchanged_still_wins(distrilusa):
    distrilusa.serve(*LINES)
    distrilusa.ingest()
    changed = LINES[0].replace("329,00;12", "300,00;1")
    distrilusa.serve(changed, LINES[1], LINES[2], LINES[0])  # DL1 twice, the last line as before
    run = distrilusa.ingest()
    offer = SupplierItem.objects.get(sku="DL1")
    assert (offer.price, offer.stock) == (D("329"), 12)
    assert any("more than once" in w for w in run.warnings)


def test_a_duplicated_sku_whose_first_line_is_unchanged_lets_the_last_win(distrilusa):
    distrilusa.serve(*LINES)
    distrilusa.ingest()
    distrilusa.serve(LINES[0], LINES[1], LINES[2], LINES[0].replace("329,00;12", "300,00;1"))
    run = distrilusa.ingest()
    offer = SupplierItem.objects.get(sku="DL1")
    assert (offer.price, offer.stock) == (D("300"), 1)
    assert any("more than once" in w for w in run.warnings)


def test_an_unchanged_line_listed_twice_counts_as_a_duplicate(distrilusa):
    distrilusa.serve(*LINES)
    distrilusa.ingest()
    distrilusa.serve(*LINES, LINES[1])
    run = distrilusa.ingest()
    assert run.status == FeedRun.Status.WARNING
    assert any("more than once" in w for w in run.warnings)
    assert run.events_created == 0


def test_a_rejected_line_after_an_unchanged_one_of_the_same_sku_keeps_nothing_more(distrilusa):
    """The SKU was listed (unchanged, not written): its later bad line is a duplicate, not an
    offer "kept as it was", and the offer is not missing."""
    distrilusa.serve(*LINES)
    distrilusa.ingest()
    distrilusa.serve(*LINES, LINES[0].replace("329,00", "abc"))
    run = distrilusa.ingest()
    assert (run.rows_valid, run.rows_rejected, run.offers_zeroed) == (3, 1, 0)
    assert not any("keep their last known price" in w for w in run.warnings)
    assert SupplierItem.objects.get(sku="DL1").stock == 12


def test_rows_with_warnings_warn_on_every_run(distrilusa):
    ProductFactory(gtin=None, brand=Brand.objects.create(name="LG"), partnumber="OLED55C4")
    distrilusa.serve("X1;5600000000009;LG;OLED55C4;TV;Casa;999,00;1;")
    distrilusa.ingest()
    again = distrilusa.ingest()
    assert again.warnings_count >= 1
    assert any("check digit" in w for w in again.warnings)
    assert SupplierItem.objects.get(sku="X1").raw_hash == ""


# -- a catalog step that never ran ----------------------------------------------------------------


@pytest.fixture
def failpoints(settings):
    from genesys.failpoints import failpoints_reset

    def arm(**points):
        settings.FAILPOINTS = {name.replace("__", "."): (1, "raise") for name in points}
        failpoints_reset()

    yield arm
    failpoints_reset()


def test_a_catalog_step_that_died_is_done_by_the_next_run_although_every_row_is_unchanged(
    distrilusa, failpoints
):
    distrilusa.serve(*[f"S{n};{ean(n)};A;P{n};N;Casa;12,00;5;" for n in range(1, 6)])
    distrilusa.ingest()
    rise = [f"S{n};{ean(n)};A;P{n};N;Casa;15,00;5;" for n in range(1, 6)]
    distrilusa.serve(*rise)
    failpoints(ingest__before_catalog=True)
    with pytest.raises(RuntimeError, match="failpoint"):
        distrilusa.ingest()  # the offers and their fingerprints are committed, the catalog is not
    assert set(SupplierItem.objects.values_list("price", flat=True)) == {D("15.0000")}
    assert DirtyProduct.objects.count() == 5

    failpoints()  # the next run of the same feed: every row is unchanged
    run = distrilusa.ingest()

    assert (run.status, run.offers_unchanged) == (FeedRun.Status.SUCCESS, 5)
    costs = set(ProductActiveOffer.objects.values_list("unit_cost", flat=True))
    assert costs == {D("15.0000")}
    assert not DirtyProduct.objects.exists()


def test_a_dry_run_leaves_no_intent_behind(distrilusa):
    distrilusa.serve(*LINES)
    distrilusa.ingest(dry_run=True)
    assert not DirtyProduct.objects.exists()


def test_an_ingest_asked_to_stop_keeps_its_written_chunks_and_zeroes_nothing(distrilusa, settings):
    """The stop is checked after each committed chunk; the missing-offer step never runs."""
    seed_three(distrilusa)
    settings.INGEST_CHUNK_ROWS = 2
    rows = [f"N{n};{ean(100 + n)};Acme;P{n};Product {n};A > B;10,00;3;1 ano" for n in range(7)]
    distrilusa.serve(*rows)  # DL1..DL3 are missing: a complete read would zero DL1 and DL2
    asked = []

    def should_stop() -> bool:
        asked.append(SupplierItem.objects.filter(sku__startswith="N").count())
        return len(asked) == 2  # after the second chunk

    run = distrilusa.ingest(should_stop=should_stop)
    assert asked == [2, 4]  # asked once per committed chunk, each one written when asked
    assert run.status == "cancelled" and run.progress
    assert (run.rows_valid, run.offers_zeroed, run.unseen_handling) == (4, 0, "")
    assert "Stopped on request after 4 valid rows" in run.warnings[0]
    assert SupplierItem.objects.filter(sku__startswith="N").count() == 4
    assert set(SupplierItem.objects.filter(sku__in=["DL1", "DL2"]).values_list("stock", flat=True)) == {12, 5}
