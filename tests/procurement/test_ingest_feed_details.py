"""Feed details met on real feeds, through the real ingest: Shopify's product CSV (variant rows
that leave the product's fields blank), a mistyped XML source, float-text and short GTINs."""

import pytest

from catalog.models import Product
from procurement.models import FeedRun, SupplierItem
from procurement.services.ingest import feed_ingest
from tests.factories import FeedMapperFactory, SupplierFactory, SupplierFeedFactory
from tests.procurement.test_ingest_identity import MERCHANT_PROFILE, MerchantFeed, item

pytestmark = pytest.mark.django_db

SHOPIFY_HEADER = "Handle,Title,Vendor,Variant SKU,Variant Barcode,Variant Price,Variant Inventory Qty"
SHOPIFY_PROFILE = {
    "fields": {
        "sku": "Variant SKU",
        "gtin": "Variant Barcode",
        "brand": {"source": "Vendor", "inherit": "Handle"},
        "partnumber": "Variant SKU",
        "name": {"source": "Title", "inherit": "Handle"},
        "price": "Variant Price",
        "stock": "Variant Inventory Qty",
    },
    "meta": "none",
}


def ingest(feed) -> FeedRun:
    run = feed_ingest(feed_id=feed.pk, triggered_by="test")
    run.refresh_from_db()
    return run


def test_shopify_variant_rows_inherit_the_product_fields_of_their_group(feed_server):
    feed_server.route(
        "/products.csv",
        body=(
            f"{SHOPIFY_HEADER}\n"
            "organic-tee,Organic tee,Acme,TEE-S,5600000010280.0,19.00,4\n"
            "organic-tee,,,TEE-M,,19.00,2\n"
            "organic-tee,,,TEE-L,,21.00,0\n"
            "mug,Mug,Acme,MUG-1,,8.50,7\n"
        ).encode(),
    )
    feed = SupplierFeedFactory(
        supplier=SupplierFactory(name="Loja"),
        source_url=feed_server.url("/products.csv"),
        format="csv",
        format_options={"delimiter": ",", "timeout": 5, "retry_backoff": 0.01},
    )
    FeedMapperFactory(feed=feed, profile=SHOPIFY_PROFILE)
    run = ingest(feed)
    assert (run.rows_valid, run.rows_rejected) == (4, 0), run.rejected_rows
    names = dict(SupplierItem.objects.values_list("sku", "name_raw"))
    assert names == {"TEE-S": "Organic tee", "TEE-M": "Organic tee", "TEE-L": "Organic tee", "MUG-1": "Mug"}
    assert Product.objects.get(gtin="05600000010280").name == "Organic tee"  # float-text GTIN read
    assert set(Product.objects.values_list("brand__name", flat=True)) == {"Acme"}
    # Every item is mapped on each run (a row depends on the rows before it): still all valid.
    again = ingest(feed)
    assert (again.rows_valid, again.rows_rejected, again.offers_unchanged) == (4, 0, 4)


def test_a_run_warns_about_a_mapped_xml_source_that_no_item_has(feed_server):
    merchant = MerchantFeed(feed_server)
    profile = {**MERCHANT_PROFILE, "fields": {**MERCHANT_PROFILE["fields"], "name": "g:title"}}
    merchant.feed.mappers.update(profile=profile)
    merchant.serve(item("A-1", "Lixadora Hummel", "9792.00"))
    run = merchant.ingest()
    assert run.status == FeedRun.Status.WARNING
    assert "name ← g:title: not found in any of the first 1 items; did you mean title?" in run.warnings


def test_a_short_gtin_is_read_with_a_warning_on_the_run(feed_server):
    merchant = MerchantFeed(feed_server)
    merchant.serve(item("K-1", "Tissues", "2.00", brand="Kleenex", mpn="K1", gtin="36000291452"))
    run = merchant.ingest()
    assert Product.objects.get().gtin == "00036000291452"
    assert any("11 digits, read as 00036000291452" in warning for warning in run.warnings)
