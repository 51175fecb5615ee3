"""Landed cost as a policy: feed price to the cost of one unit in the shop's currency."""

from decimal import Decimal

import pytest

from catalog.policies.landed import (
    FeedPricing,
    LandedRules,
    WeightBand,
    WeightTableError,
    landed_cost_compute,
    weight_table_parse,
)

D = Decimal
EUR = FeedPricing("EUR")
CZK = FeedPricing("CZK")
NO_RULES = LandedRules()


def landed(price, feed=EUR, rate="1", rules=NO_RULES, weight=None):
    return landed_cost_compute(
        price=D(price), feed=feed, rate=D(rate), rules=rules, weight=None if weight is None else D(weight)
    )


def test_a_net_price_in_the_shops_currency_without_rules_is_its_own_landed_cost():
    cost = landed("329.00")
    assert cost.total == D("329.0000")
    assert cost.explain(shop_currency="EUR") == "329.00 €"


def test_a_foreign_price_is_converted_and_shipping_added_as_the_explanation_says():
    cost = landed("7990", feed=CZK, rate="0.0395726", rules=LandedRules(per_item=D("9.50")))
    assert cost.total == D("325.6851")  # 7990 x 0.0395726 = 316.185074, + 9.50
    assert cost.explain(shop_currency="EUR") == "325.69 € = 7,990 CZK × 0.03957 + 9.50 € shipping"  # noqa: RUF001


def test_vat_included_prices_lose_their_vat_before_anything_else():
    cost = landed("123.00", feed=FeedPricing("EUR", includes_vat=True, vat_rate=D("0.23")))
    assert cost.total == D("100.0000")
    assert cost.explain(shop_currency="EUR") == "100.00 € = (123 € less 23 € VAT)"


def test_vat_and_currency_together():
    feed = FeedPricing("CZK", includes_vat=True, vat_rate=D("0.21"))
    assert landed("1210", feed=feed, rate="0.04").total == D("40.0000")


def test_per_line_and_percentage_costs_add_up():
    rules = LandedRules(per_item=D("1"), per_line=D("4"), percent=D("0.02"))
    assert landed("100", rules=rules).total == D("107.0000")  # 100 + 1 + 4 + 2 %


def test_free_shipping_above_an_amount_drops_shipping_but_not_the_percentage():
    rules = LandedRules(per_item=D("9.50"), percent=D("0.01"), free_above=D("300"))
    assert landed("299.99", rules=rules).total == D("312.4899")
    assert landed("300", rules=rules).total == D("303.0000")
    # The threshold is on the converted net cost: 7,990 CZK at 0.04 is 319.60 EUR.
    assert landed("7990", feed=CZK, rate="0.04", rules=rules).shipping == 0


def test_the_weight_band_that_fits_applies_and_heavier_or_unknown_take_the_last():
    rules = LandedRules(weight_bands=(WeightBand(D("2"), D("4.50")), WeightBand(D("30"), D("12"))))
    assert landed("10", rules=rules, weight="0.8").shipping == D("4.50")
    assert landed("10", rules=rules, weight="2").shipping == D("4.50")
    assert landed("10", rules=rules, weight="2.001").shipping == D("12")
    assert landed("10", rules=rules, weight="80").shipping == D("12")
    assert landed("10", rules=rules).shipping == D("12")  # no weight: the safe side


def test_money_is_decimal_and_rounded_half_up_to_four_places_once():
    cost = landed("0.00005", rate="1")
    assert cost.total == D("0.0001")
    assert isinstance(cost.total, Decimal)


def test_weight_tables_are_validated():
    assert weight_table_parse([]) == ()
    assert weight_table_parse([{"up_to_kg": "2", "amount": 4.5}]) == (WeightBand(D("2"), D("4.5")),)
    for bad in (
        {"up_to_kg": 2},
        [{"up_to_kg": "2"}],
        [{"up_to_kg": "x", "amount": "1"}],
        [{"up_to_kg": "0", "amount": "1"}],
        [{"up_to_kg": "5", "amount": "1"}, {"up_to_kg": "2", "amount": "1"}],
    ):
        with pytest.raises(WeightTableError):
            weight_table_parse(bad)
