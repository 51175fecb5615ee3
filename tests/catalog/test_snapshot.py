from decimal import Decimal

from catalog.models import CatalogUpdateStream
from catalog.policies.snapshot import ProductState, state_changes, stream_priority

P = CatalogUpdateStream.Priority


def state(stock=5, price="12.00", supplier=1, **flags):
    base = {"is_enabled": True, "is_eol": False}
    base.update(flags)
    if supplier is None:
        return ProductState(**base)
    return ProductState(
        **base,
        supplier_id=supplier,
        supplier_item_id=supplier * 10,
        unit_cost=Decimal("10"),
        margin_applied=Decimal("0.2"),
        unit_price_sent=Decimal(price),
        stock_sent=stock,
    )


def test_no_change_means_nothing_to_send():
    assert state_changes(state(), state()) == ()


def test_each_watched_field_is_a_change():
    assert state_changes(state(), state(stock=6)) == ("stock_sent",)
    assert state_changes(state(), state(price="13.00")) == ("unit_price_sent",)
    assert state_changes(state(), state(supplier=2)) == ("supplier_id",)
    assert state_changes(state(), state(is_eol=True)) == ("is_eol",)
    assert state_changes(state(), state(is_enabled=False)) == ("is_enabled",)


def test_priorities_back_in_stock_then_sold_out_then_price_then_other():
    assert stream_priority(state(stock=0), state(stock=3)) == P.BACK_IN_STOCK
    assert stream_priority(state(supplier=None), state(stock=3)) == P.BACK_IN_STOCK
    assert stream_priority(state(stock=3), state(stock=0)) == P.SOLD_OUT
    assert stream_priority(state(stock=3), state(supplier=None)) == P.SOLD_OUT
    assert stream_priority(state(price="12.00"), state(price="11.00")) == P.PRICE
    assert stream_priority(state(), state(is_eol=True)) == P.OTHER
    assert P.BACK_IN_STOCK > P.SOLD_OUT > P.PRICE > P.OTHER


def test_shop_active_needs_enabled_not_eol_and_an_offer():
    assert state().shop_active
    assert state(stock=0).shop_active  # out of stock at a real price stays visible
    assert not state(is_eol=True).shop_active
    assert not state(is_enabled=False).shop_active
    assert not state(supplier=None).shop_active
