"""Database constraints of the catalog: enforced by the database, not only by forms."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from catalog.models import Brand, CatalogUpdateStream, Category, Product, ProductMeta
from tests.factories import (
    BrandFactory,
    CatalogUpdateStreamFactory,
    CategoryFactory,
    ProductActiveOfferFactory,
    ProductFactory,
    make_gtin,
)

pytestmark = pytest.mark.django_db


def test_duplicate_gtin_is_refused():
    ProductFactory(gtin=make_gtin(1))
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(gtin=make_gtin(1))


def test_many_products_without_gtin_are_allowed():
    brand = BrandFactory()
    ProductFactory(gtin=None, brand=brand, partnumber="A-1")
    ProductFactory(gtin=None, brand=brand, partnumber="B-2")
    assert Product.objects.filter(gtin__isnull=True).count() == 2


def test_empty_gtin_is_stored_as_null_so_it_never_collides():
    brand = BrandFactory()
    first = ProductFactory(gtin="", brand=brand, partnumber="A-1")
    ProductFactory(gtin="", brand=brand, partnumber="B-2")
    first.refresh_from_db()
    assert first.gtin is None


def test_gtin_must_be_14_digits_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.bulk_create([Product(gtin="4006381333931", brand=BrandFactory(), partnumber="X")])
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.bulk_create([Product(gtin="0400638133393A", brand=BrandFactory(), partnumber="X")])


def test_same_brand_and_partnumber_without_gtin_is_refused_whatever_the_spelling():
    brand = BrandFactory()
    ProductFactory(gtin=None, brand=brand, partnumber="WAN-28282 ES")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(gtin=None, brand=brand, partnumber="wan28282es")


def test_same_partnumber_is_fine_for_products_that_have_gtins():
    brand = BrandFactory()
    ProductFactory(gtin=make_gtin(1), brand=brand, partnumber="X-1")
    ProductFactory(gtin=make_gtin(2), brand=brand, partnumber="X-1")


def test_product_without_any_identity_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(gtin=None, brand=None, partnumber="ABC")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(gtin=None, brand=BrandFactory(), partnumber="")


def test_shop_product_id_is_unique():
    ProductFactory(id_ecommerce=42)
    ProductFactory(id_ecommerce=None)
    ProductFactory(id_ecommerce=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(id_ecommerce=42)


def test_a_form_is_told_the_shop_product_id_is_taken():
    ProductFactory(id_ecommerce=42)
    with pytest.raises(ValidationError, match="already linked to this shop product"):
        ProductFactory.build(id_ecommerce=42, brand=BrandFactory()).validate_constraints()


@pytest.mark.postgres_only
def test_only_linked_products_take_an_entry_in_the_shop_id_index():
    """Most products are not in the shop: the index skips their NULLs (an entry less for each
    new product, and for its first price's row version)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [Product._meta.db_table, "%(id_ecommerce)%"],
        )
        (definition,) = [row[0] for row in cursor.fetchall()]
    assert definition.startswith("CREATE UNIQUE INDEX")
    assert definition.endswith("WHERE (id_ecommerce IS NOT NULL)")


def test_negative_margin_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(margin=Decimal("-0.1"))


def test_partnumber_is_normalised_on_save():
    product = ProductFactory(partnumber=" wan-28282/es ")
    assert product.partnumber_normalized == "WAN28282ES"


def test_brand_names_are_unique_by_case_accents_and_spaces():
    Brand.objects.create(name="Électrolux")
    with pytest.raises(IntegrityError), transaction.atomic():
        Brand.objects.create(name="  electrolux ")


def test_category_names_are_unique_per_parent_and_paths_are_built():
    root = Category.objects.create(name="Informática")
    laptops = Category.objects.create(name="Portáteis", parent=root)
    assert laptops.full_path == "Informática > Portáteis"
    Category.objects.create(name="Portáteis")  # same name, other parent (root level): fine
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(name="portateis", parent=root)
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(name="INFORMATICA")


def test_auto_import_needs_a_shop_category():
    with pytest.raises(IntegrityError), transaction.atomic():
        CategoryFactory(auto_import=True, id_ps_category=None)
    CategoryFactory(auto_import=True, id_ps_category=12)


def test_product_meta_key_is_unique_per_product():
    product = ProductFactory()
    ProductMeta.objects.create(product=product, key="colour", value="black")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductMeta.objects.create(product=product, key="colour", value="white")


def test_second_pending_stream_row_for_a_product_and_shop_is_refused():
    product = ProductFactory()
    CatalogUpdateStreamFactory(product=product, shop="prestashop")
    with pytest.raises(IntegrityError), transaction.atomic():
        CatalogUpdateStreamFactory(product=product, shop="prestashop")


def test_pending_row_may_coexist_with_processed_rows_and_other_shops():
    product = ProductFactory()
    for status in ["done", "failed", "processing"]:
        CatalogUpdateStreamFactory(product=product, status=status)
    CatalogUpdateStreamFactory(product=product, status="pending")
    CatalogUpdateStreamFactory(product=product, status="pending", shop="other-shop")
    assert CatalogUpdateStream.objects.filter(product=product).count() == 5


def test_active_offer_is_never_sold_below_cost():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductActiveOfferFactory(unit_cost=Decimal("10"), unit_price_sent=Decimal("9.99"), stock_sent=1)
    # A held price keeps the old one in the shop, below the new cost: only with no stock sent.
    ProductActiveOfferFactory(unit_cost=Decimal("10"), unit_price_sent=Decimal("9.99"), stock_sent=0)


def test_active_offer_stock_and_cost_are_sane():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductActiveOfferFactory(stock_sent=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductActiveOfferFactory(unit_cost=Decimal("0"), unit_price_sent=Decimal("0"))


def test_money_keeps_decimal_precision():
    offer = ProductActiveOfferFactory(unit_cost=Decimal("12.3456"), unit_price_sent=Decimal("14.8147"))
    offer.refresh_from_db()
    assert offer.unit_cost == Decimal("12.3456")
    assert isinstance(offer.unit_price_sent, Decimal)
