"""The price-jump guard as a policy: which new prices wait for an operator (no database)."""

from dataclasses import replace
from decimal import Decimal

from catalog.policies.guard import (
    FIRST_VS_OFFERS,
    FLOOR,
    JUMP,
    GuardLimits,
    price_guard,
    state_while_held,
)
from catalog.policies.snapshot import ProductState

D = Decimal
LIMITS = GuardLimits(max_change=D("0.40"), min_margin=D("0.05"))


def guard(new, *, cost="50", last="100", **kwargs):
    return price_guard(
        new_price=D(new), landed_cost=D(cost), last_price=None if last is None else D(last), limits=LIMITS,
        **kwargs,
    )  # fmt: skip


def test_a_change_within_the_limit_passes_either_way():
    assert not guard("140").held
    assert not guard("60").held
    assert guard("140").change == D("0.4")


def test_a_change_beyond_the_limit_is_held_up_or_down():
    up, down = guard("140.01"), guard("59.99")
    assert up.held and up.reasons == (JUMP,)
    assert down.held and down.reasons == (JUMP,)
    assert down.change == D("-0.4001")


def test_a_price_below_landed_cost_plus_the_minimum_margin_is_held_even_without_a_jump():
    verdict = guard("104", cost="100")  # 100 x 1.05 = 105
    assert verdict.held and verdict.reasons == (FLOOR,)
    assert not guard("105", cost="100").held


def test_both_reasons_are_given_when_both_apply():
    assert guard("200", cost="195").reasons == (JUMP, FLOOR)


def test_the_same_price_as_the_shop_has_always_passes():
    assert not guard("100", cost="99").held  # below the floor, but it is what the shop has


def test_an_approved_price_passes_exactly_and_only_that_price():
    assert not guard("300", approved_price=D("300")).held
    assert guard("301", approved_price=D("300")).held


def test_a_first_price_is_checked_against_the_floor_only_without_other_offers():
    assert not guard("1000", cost="800", last=None).held
    assert guard("800", cost="800", last=None).reasons == (FLOOR,)
    assert guard("1000", last=None).change is None


def test_a_first_price_far_from_the_other_offers_at_the_typical_margin_is_held():
    # The 11.10 EUR pads against the 9,792 EUR and 2,892 EUR machines sharing a part number.
    pads = guard(
        "13.32", cost="11.10", last=None, other_costs=[D("9792"), D("2892")], typical_margin=D("0.20")
    )
    assert pads.held and pads.reasons == (FIRST_VS_OFFERS,)
    # Near the median of the others priced at the typical margin: a normal first price.
    fine = guard(
        "120", cost="100", last=None, other_costs=[D("95"), D("105"), D("110")], typical_margin=D("0.20")
    )
    assert not fine.held


def test_other_offers_do_not_matter_once_the_shop_has_a_price():
    assert not guard("120", cost="100", other_costs=[D("1000")], typical_margin=D("0.2"), last="110").held


HELD = ProductState(
    is_enabled=True, is_eol=False, supplier_id=1, supplier_item_id=2, unit_cost=D("80"),
    margin_applied=D("0.2"), unit_price_sent=D("96.00"), stock_sent=7,
)  # fmt: skip


def test_while_held_the_shop_keeps_its_price_and_stock_goes_through():
    state = state_while_held(proposed=HELD, last_price=D("150.00"))
    assert (state.unit_price_sent, state.stock_sent, state.shop_active) == (D("150.00"), 7, True)
    assert (state.supplier_item_id, state.unit_cost) == (2, D("80"))


def test_while_held_a_price_below_the_new_cost_sells_nothing():
    raised = replace(HELD, unit_cost=D("200"), unit_price_sent=D("240.00"))
    state = state_while_held(proposed=raised, last_price=D("120.00"))
    assert (state.unit_price_sent, state.stock_sent) == (D("120.00"), 0)


def test_a_held_first_price_sells_nothing_until_approved():
    state = state_while_held(proposed=HELD, last_price=None)
    assert not state.has_offer and not state.shop_active
