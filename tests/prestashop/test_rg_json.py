"""r_genesys JSON builders and parsers, without HTTP."""

import json
from decimal import Decimal

import pytest

from prestashop import rg_json
from prestashop.errors import ShopResponseError
from prestashop.fields import prepare_product
from prestashop.types import ProductUpdate, ShopLanguage
from tests.prestashop.conftest import draft

LANGUAGES = [ShopLanguage(1, "pt", "Português"), ShopLanguage(2, "en", "English")]


def test_create_request_uses_decimal_strings_and_language_id_keys():
    product = prepare_product(draft(gtin="14006381333938"), languages=LANGUAGES)
    payload = rg_json.build_create_request([product], tax_rules_group_id=3)
    [item] = json.loads(json.dumps(payload))["items"]
    assert item == {
        "key": "reference:SKU-1",
        "reference": "SKU-1",
        "ean13": None,  # a real GTIN-14 is not sent
        "price": "499.990000",
        "weight": "1.600000",
        "id_category_default": 4,
        "category_ids": [4, 3],
        "id_manufacturer": 6,
        "id_tax_rules_group": 3,
        "name": {"1": "Portátil Lenovo IdeaPad 15", "2": "Lenovo IdeaPad 15 laptop"},
        "link_rewrite": {"1": "portatil-lenovo-ideapad-15", "2": "lenovo-ideapad-15-laptop"},
        "description": {"1": "<p>Ecrã 15,6&quot;</p>", "2": "<p>15.6 inch screen</p>"},
        "description_short": {"1": "Portátil leve", "2": "Light laptop"},
    }


def test_update_request_carries_only_the_changes():
    payload = rg_json.build_update_request(
        [ProductUpdate(1, price=Decimal("9.2436974")), ProductUpdate(2, quantity=0, active=False)]
    )
    assert payload == {
        "items": [{"id_product": 1, "price": "9.243697"}, {"id_product": 2, "quantity": 0, "active": False}]
    }


def test_update_results_map_to_update_results_in_order():
    updates = [ProductUpdate(1, price=Decimal(1)), ProductUpdate(2, active=True)]
    payload = {
        "results": [
            {"id_product": 1, "ok": True, "applied": ["price"]},
            {
                "id_product": 2,
                "ok": False,
                "error": {"code": "lock_timeout", "message": "busy", "permanent": False},
            },
        ]
    }
    ok, failed = rg_json.parse_update_results(payload, updates)
    assert ok.ok and ok.applied == ("price",)
    assert not failed.ok and failed.code == "lock_timeout" and not failed.permanent
    assert "busy" in failed.error


@pytest.mark.parametrize(
    "payload",
    [
        {"results": [{"id_product": 1, "ok": True}]},  # one result for two items
        {"results": [{"id_product": 2, "ok": True}, {"id_product": 1, "ok": True}]},  # order
        {"nothing": []},
        [],
    ],
)
def test_update_results_that_do_not_match_the_request_are_refused(payload):
    updates = [ProductUpdate(1, price=Decimal(1)), ProductUpdate(2, active=True)]
    with pytest.raises(ShopResponseError):
        rg_json.parse_update_results(payload, updates)


def test_lists_and_state():
    categories = rg_json.parse_categories(
        {
            "categories": [
                {"id": 4, "id_parent": 3, "level_depth": 3, "active": True, "name": {"1": "A", "2": "B"}}
            ]
        }
    )
    assert categories[0].names == {1: "A", 2: "B"} and categories[0].name == "A" and not categories[0].is_root
    state = rg_json.parse_state(
        {"product": {"id_product": 4, "price": "1.500000", "quantity": 3, "active": True, "reference": "R"}}
    )
    assert state.price == Decimal("1.5") and state.quantity == 3
    assert rg_json.next_offset({"next_offset": 500}) == 500
    assert rg_json.next_offset({"next_offset": None}) is None
    assert rg_json.error_body({"error": {"code": "unauthorized", "message": "no"}}) == ("unauthorized", "no")
    assert rg_json.error_body("<html>") == ("", "")
