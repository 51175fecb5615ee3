"""The stream payload as a type: built from a product's state, stored as JSON, read back."""

from decimal import Decimal

import pytest

from catalog.policies.shop_state import ShopProduct, ShopState
from catalog.policies.snapshot import ProductState

D = Decimal
PRODUCT = ShopProduct(
    id=1, gtin="05600000010075", partnumber="SM-A556", name="Galaxy", margin=None, is_enabled=True,
    is_eol=False, id_ecommerce=42,
)  # fmt: skip
# A row written before ShopState existed (catalog/services/offers.py:_payload), as stored.
OLD_ROW = {
    "product": {"id": 1, "gtin": "05600000010075", "partnumber": "SM-A556", "name": "Galaxy",
                "margin": None, "is_enabled": True, "is_eol": False, "id_ecommerce": 42},
    "active_offer": {"id_supplier": 3, "id_supplier_item": 17, "unit_cost": "329.0000",
                     "unit_price_sent": "388.22", "stock_sent": 5},
    "shop": {"active": True, "price": "388.22", "quantity": 5},
}  # fmt: skip


def test_a_state_with_an_offer_is_stored_in_the_layout_rows_already_have():
    state = ProductState(
        is_enabled=True, is_eol=False, supplier_id=3, supplier_item_id=17, unit_cost=D("329.0000"),
        margin_applied=D("0.18"), unit_price_sent=D("388.22"), stock_sent=5,
    )  # fmt: skip
    assert ShopState.of(product=PRODUCT, state=state).to_json() == OLD_ROW


def test_without_an_offer_the_shop_keeps_its_price_and_the_product_is_inactive():
    stored = ShopState.of(product=PRODUCT, state=ProductState(is_enabled=True, is_eol=False)).to_json()
    assert stored["active_offer"] is None
    assert stored["shop"] == {"active": False, "price": None, "quantity": 0}


def test_an_old_row_reads_back_into_the_same_state():
    state = ShopState.from_json(OLD_ROW)
    assert (state.active, state.price, state.quantity) == (True, D("388.22"), 5)
    assert state.product == PRODUCT
    assert state.offer.supplier_item_id == 17 and state.offer.unit_cost == D("329.0000")
    assert state.to_json() == OLD_ROW


def test_only_the_shop_section_is_required():
    state = ShopState.from_json({"shop": {"active": False, "price": None}})
    assert (state.active, state.price, state.quantity) == (False, None, 0)
    assert state.product is None and state.offer is None


@pytest.mark.parametrize(
    "payload",
    [{}, {"product": {}}, {"shop": {"price": "1"}}, [], None, {"shop": {"active": True, "price": "abc"}},
     {"shop": {"active": True, "price": "NaN"}}, {"shop": {"active": True, "quantity": "many"}}],
)  # fmt: skip
def test_a_payload_without_a_usable_shop_state_is_refused(payload):
    with pytest.raises(ValueError):
        ShopState.from_json(payload)
