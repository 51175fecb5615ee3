import json

import pytest
from django.conf import settings

from procurement.models import FeedMapper, Supplier, SupplierFeed
from procurement.services.config_io import ConfigImportError, suppliers_export, suppliers_import

pytestmark = pytest.mark.django_db


def demo_config() -> dict:
    return json.loads((settings.BASE_DIR / "demo" / "suppliers.json").read_text())


def test_export_round_trips_an_import():
    data = demo_config()
    suppliers_import(data=data)
    exported = suppliers_export()
    suppliers_import(data=exported)
    assert suppliers_export() == exported
    assert Supplier.objects.count() == 3
    assert FeedMapper.objects.count() == 3


def test_import_updates_existing_suppliers_and_keeps_the_old_mapper_inactive():
    data = demo_config()
    suppliers_import(data=data)
    feed_data = data["suppliers"][0]["feeds"][0]
    feed_data["mapper"] = {"name": "v2", "profile": {**feed_data["mapper"]["profile"], "meta": "none"}}
    data["suppliers"][0]["margin"] = "0.3000"
    summary = suppliers_import(data=data)
    assert summary.suppliers_updated == 3
    distrilusa = Supplier.objects.get(name="Distrilusa")
    assert str(distrilusa.margin) == "0.3000"
    mappers = FeedMapper.objects.filter(feed__supplier=distrilusa)
    assert {(m.name, m.is_active) for m in mappers} == {("default", False), ("v2", True)}


def test_invalid_import_changes_nothing_and_lists_every_problem():
    data = demo_config()
    data["suppliers"][0]["feeds"][0]["auth_settings"] = {"password": "hunter2"}
    data["suppliers"][1]["margin"] = "lots"
    data["suppliers"][2]["colour"] = "blue"
    with pytest.raises(ConfigImportError) as excinfo:
        suppliers_import(data=data)
    errors = excinfo.value.errors
    assert any(e.startswith("suppliers[0].feeds[0].auth_settings:") for e in errors)
    assert any(e.startswith("suppliers[1].margin:") for e in errors)
    assert "suppliers[2]: unknown keys colour" in errors
    assert not any("hunter2" in e for e in errors)
    assert Supplier.objects.count() == 0
    assert SupplierFeed.objects.count() == 0


def test_import_refuses_a_file_of_the_wrong_shape():
    with pytest.raises(ConfigImportError, match='"suppliers" list'):
        suppliers_import(data=[{"name": "x"}])


def test_an_invalid_mapper_profile_is_reported_with_its_path():
    data = demo_config()
    profile = data["suppliers"][1]["feeds"][0]["mapper"]["profile"]
    profile["fields"]["price"] = {"source": "pricing.net", "transforms": [{"type": "decmal"}]}
    del profile["fields"]["stock"]
    with pytest.raises(ConfigImportError) as excinfo:
        suppliers_import(data=data)
    assert excinfo.value.errors[0].startswith(
        'suppliers[1].feeds[0].mapper.profile: fields.price.transforms[0]: unknown transform "decmal"'
    )
    assert "suppliers[1].feeds[0].mapper.profile: fields.stock: required" in excinfo.value.errors
    assert Supplier.objects.count() == 0


def test_invalid_feed_settings_are_reported_with_their_path():
    data = demo_config()
    data["suppliers"][0]["feeds"][0]["format_options"] = {"delimeter": ";"}
    with pytest.raises(ConfigImportError) as excinfo:
        suppliers_import(data=data)
    assert excinfo.value.errors[0].startswith(
        "suppliers[0].feeds[0].format_options: delimeter: unknown option for csv feeds"
    )


def test_landed_cost_terms_import_export_and_move_the_costs_of_the_offers():
    from catalog.models import DirtyProduct
    from procurement.models import SupplierItem
    from tests.factories import SupplierItemFactory

    data = demo_config()
    suppliers_import(data=data)
    feed = SupplierFeed.objects.get(supplier__name="Distrilusa")
    offer = SupplierItemFactory(feed=feed)
    data["suppliers"][0].update(
        {"shipping_per_item": "9.50", "shipping_weight_table": [{"up_to_kg": "2", "amount": "4.50"}]}
    )
    data["suppliers"][0]["feeds"][0].update(
        {"currency": "CZK", "prices_include_vat": True, "vat_rate": "0.21"}
    )

    suppliers_import(data=data)

    distrilusa = Supplier.objects.get(name="Distrilusa")
    assert str(distrilusa.shipping_per_item) == "9.5000"
    feed.refresh_from_db()
    assert (feed.currency, feed.prices_include_vat, str(feed.vat_rate)) == ("CZK", True, "0.2100")
    assert DirtyProduct.objects.filter(product_id=offer.product_id).exists()
    exported = suppliers_export()["suppliers"][0]
    assert exported["shipping_weight_table"] == [{"up_to_kg": "2", "amount": "4.50"}]
    assert exported["feeds"][0]["currency"] == "CZK"
    assert SupplierItem.objects.count() == 1


def test_a_bad_weight_table_or_missing_vat_rate_is_reported_with_its_path():
    data = demo_config()
    data["suppliers"][0]["shipping_weight_table"] = [
        {"up_to_kg": "5", "amount": "1"},
        {"up_to_kg": "2", "amount": "1"},
    ]
    data["suppliers"][1]["feeds"][0]["prices_include_vat"] = True
    with pytest.raises(ConfigImportError) as caught:
        suppliers_import(data=data)
    text = "; ".join(caught.value.errors)
    assert "suppliers[0].shipping_weight_table: bands must be in increasing up_to_kg order" in text
    assert "suppliers[1].feeds[0].vat_rate" in text
