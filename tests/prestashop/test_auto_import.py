"""Auto-import creates new products in the fake shop, disabled, and survives crashes anywhere."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import CatalogUpdateStream, Product
from catalog.services.changes import product_save
from catalog.services.offers import Reason, active_offers_recompute
from prestashop.services import auto_import
from prestashop.services.auto_import import product_shop_reference, products_auto_import
from prestashop.services.reference import shop_reference_sync
from prestashop.services.sync import stream_drain
from tests.factories import BrandFactory, CategoryFactory, ProductFactory, SupplierItemFactory, make_gtin
from tests.prestashop.conftest import BACKENDS

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def laptops(make_client):
    """The shop's tree and brands known to Genesys; a Genesys category mapped to "Portáteis"."""
    shop_reference_sync(client=make_client("r_genesys", page_size=50))
    return CategoryFactory(name="Portáteis", id_ps_category=4, ps_category_name="Informática > Portáteis",
                           auto_import=True)  # fmt: skip


def candidate(category, *, price="100", stock=5, brand="Lenovo", **fields) -> Product:
    product = ProductFactory(category=category, brand=BrandFactory(name=brand), **fields)
    SupplierItemFactory(product=product, price=D(price), stock=stock)
    active_offers_recompute(product_ids=[product.pk], reason=Reason.INGEST)
    return product


def fake_by_reference(shop, reference):
    return [p for p in shop.products() if p.reference == reference]


@pytest.mark.parametrize("backend", BACKENDS)
def test_candidates_are_created_disabled_with_the_right_payload(make_client, fake_shop, laptops, backend):
    with_ean = candidate(laptops, name="Portátil Lenovo IdeaPad 15; 16GB", gtin=make_gtin(7, "561"))
    gtin14 = candidate(laptops, name="Caixa de 6 portáteis", gtin="15600000000072", price="200")
    no_gtin = candidate(laptops, name="Sem código", gtin=None, brand="Marca Sem Loja", partnumber="XYZ-1")
    not_imported = [
        candidate(laptops, is_eol=True),
        candidate(laptops, is_enabled=False),
        candidate(laptops, stock=0),
        candidate(CategoryFactory(id_ps_category=4), name="not auto-import"),
        candidate(laptops, id_ecommerce=555),
        ProductFactory(category=laptops),  # no offer
    ]
    client = make_client(backend)

    result = products_auto_import(client=client)

    assert (result.candidates, result.created, result.failed, result.conflicts) == (3, 3, 0, 0)
    assert result.without_manufacturer == 1
    assert len(fake_shop.products()) == 3
    for product in (with_ean, gtin14, no_gtin):
        product.refresh_from_db()
        [shop_product] = fake_by_reference(fake_shop, product_shop_reference(product.pk))
        assert product.id_ecommerce == shop_product.id
        assert product.is_enabled is False  # stays off in the shop until an operator enables it
        assert shop_product.active is False
        assert shop_product.price == product.active_offer.unit_price_sent  # net price sent
        assert (shop_product.id_category_default, shop_product.category_ids) == (4, (4,))
        assert set(shop_product.names) == {1, 2} and len(set(shop_product.names.values())) == 1
    assert (
        fake_by_reference(fake_shop, f"GEN-{with_ean.pk}")[0].names[2] == "Portátil Lenovo IdeaPad 15, 16GB"
    )
    assert fake_by_reference(fake_shop, f"GEN-{with_ean.pk}")[0].ean13 == make_gtin(7, "561")[1:]
    assert fake_by_reference(fake_shop, f"GEN-{with_ean.pk}")[0].id_manufacturer == 6  # Lenovo
    assert fake_by_reference(fake_shop, f"GEN-{gtin14.pk}")[0].ean13 == ""  # a GTIN-14 has no EAN-13
    assert fake_by_reference(fake_shop, f"GEN-{no_gtin.pk}")[0].ean13 == ""
    assert fake_by_reference(fake_shop, f"GEN-{no_gtin.pk}")[0].id_manufacturer is None  # brand unmatched
    for product in not_imported:
        product.refresh_from_db()
        assert product.id_ecommerce in (None, 555)

    # The stream then brings the shop the product's stock (and keeps it inactive).
    row = CatalogUpdateStream.objects.get(product=with_ean, status="pending")
    assert (
        row.payload["shop"]["active"] is False
        and row.payload["product"]["id_ecommerce"] == with_ean.id_ecommerce
    )
    assert Reason.AUTO_IMPORTED in row.reasons
    stream_drain(client=client)
    shop_product = fake_shop.product(with_ean.id_ecommerce)
    assert (shop_product.quantity, shop_product.active) == (5, False)

    # An operator publishes the product by enabling it in Genesys; the stream activates it.
    with_ean.is_enabled = True
    product_save(product=with_ean, changed_fields=["is_enabled"])
    stream_drain(client=client)
    assert fake_shop.product(with_ean.id_ecommerce).active is True


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_crash_between_the_shop_create_and_the_save_never_duplicates(
    make_client, fake_shop, laptops, backend, monkeypatch
):
    product = candidate(laptops, gtin=make_gtin(11, "561"))
    client = make_client(backend)

    def killed(**kwargs):
        raise RuntimeError("worker killed before the save")

    monkeypatch.setattr(auto_import, "_product_link", killed)
    with pytest.raises(RuntimeError):
        products_auto_import(client=client)
    assert len(fake_shop.products()) == 1  # in the shop, unknown to Genesys
    assert Product.objects.get(pk=product.pk).id_ecommerce is None
    monkeypatch.undo()

    result = products_auto_import(client=client)

    assert (result.adopted, result.created) == (1, 0)
    [shop_product] = fake_shop.products()
    assert Product.objects.get(pk=product.pk).id_ecommerce == shop_product.id
    assert products_auto_import(client=client).candidates == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lost_answer_to_the_create_never_duplicates(make_client, fake_shop, laptops, backend):
    product = candidate(laptops, gtin=make_gtin(12, "561"))
    client = make_client(backend, retries=0)
    create_path = "/r_genesys/createproducts" if backend == "r_genesys" else "/api/products"
    fake_shop.add_fault(status=502, method="POST", path_contains=create_path, after=True)

    first = products_auto_import(client=client)
    if first.created == 0:  # r_genesys: the run stops, the shop is failing
        assert first.stopped.startswith("the shop failed") and first.failed == 1
        second = products_auto_import(client=client)
        assert second.adopted == 1
    else:  # the Webservice client looks the reference up itself after an unknown outcome
        assert first.created == 1

    [shop_product] = fake_shop.products()
    assert Product.objects.get(pk=product.pk).id_ecommerce == shop_product.id


def test_products_the_shop_already_has_under_another_reference_are_conflicts(make_client, fake_shop, laptops):
    product = candidate(laptops, gtin=make_gtin(21, "561"))
    existing = fake_shop.add_product(reference="OPERATOR-1", ean13=make_gtin(21, "561")[1:], active=True)
    result = products_auto_import(client=make_client("webservice"))
    assert (result.conflicts, result.created) == (1, 0)
    ean = make_gtin(21, "561")[1:]
    assert f"EAN {ean} as product {existing} (OPERATOR-1)" in result.errors[0]
    assert Product.objects.get(pk=product.pk).id_ecommerce is None
    assert len(fake_shop.products()) == 1


def test_our_reference_with_another_ean_is_never_adopted(make_client, fake_shop, laptops):
    product = candidate(laptops, gtin=make_gtin(22, "561"))
    fake_shop.add_product(reference=product_shop_reference(product.pk), ean13="4006381333931")
    result = products_auto_import(client=make_client("r_genesys"))
    assert (result.conflicts, result.adopted, result.created) == (1, 0, 0)
    assert "EAN 4006381333931" in result.errors[0]
    assert Product.objects.get(pk=product.pk).id_ecommerce is None


def test_a_mapping_to_a_category_gone_from_the_shop_is_skipped(make_client, fake_shop, laptops):
    candidate(laptops)
    fake_shop.store.delete("categories", 4)
    shop_reference_sync(client=make_client("r_genesys"))
    result = products_auto_import(client=make_client("r_genesys"))
    assert result.skipped == 1 and "gone from the shop" in result.errors[0]
    assert fake_shop.products() == []


def test_dry_run_lists_and_creates_nothing(make_client, fake_shop, laptops, shop_settings):
    products = [candidate(laptops, name=f"Portátil {n}") for n in range(3)]
    fake_shop.reset_log()

    result = products_auto_import(client=None, dry_run=True)

    assert (result.candidates, result.would_create, result.created) == (3, 3, 0)
    out = StringIO()
    call_command("product_auto_import", "--dry-run", "--limit", "2", stdout=out)
    output = out.getvalue()
    assert f"would_create  {products[0].pk:>8} GEN-{products[0].pk}" in output
    assert "Portátil 1" in output and "Portátil 2" not in output
    assert "Dry run: nothing was created" in output
    assert fake_shop.requests == [] and fake_shop.products() == []
    assert not Product.objects.filter(id_ecommerce__isnull=False).exists()
    assert set(Product.objects.values_list("is_enabled", flat=True)) == {True}


def test_the_command_imports_with_a_limit(make_client, fake_shop, laptops, shop_settings):
    candidate(laptops)
    candidate(laptops)
    out = StringIO()
    call_command("product_auto_import", "--limit", "1", stdout=out)
    assert "1 candidates: 0 would be created, 1 created" in out.getvalue()
    assert len(fake_shop.products()) == 1
