from decimal import Decimal

import pytest

from catalog.policies.pricing import PriceRounding, category_margins_inherit, margin_resolve, price_compute

D = Decimal
CENTS = PriceRounding()


@pytest.mark.parametrize(
    ("product", "category", "supplier", "expected"),
    [
        (D("0.10"), D("0.20"), D("0.30"), D("0.10")),
        (None, D("0.20"), D("0.30"), D("0.20")),
        (None, None, D("0.30"), D("0.30")),
        (None, None, None, D("0.25")),
        (D("0"), D("0.20"), D("0.30"), D("0")),  # an explicit 0 % is a margin, not "unset"
    ],
)
def test_margin_precedence_product_category_supplier_default(product, category, supplier, expected):
    assert (
        margin_resolve(
            product_margin=product,
            category_margin=category,
            supplier_margin=supplier,
            default_margin=D("0.25"),
        )
        == expected
    )


def test_category_margin_is_inherited_from_the_nearest_ancestor():
    parents = {1: None, 2: 1, 3: 2, 4: None}
    margins = {1: D("0.15"), 2: None, 3: D("0.05"), 4: None}
    assert category_margins_inherit(parents=parents, margins=margins) == {
        1: D("0.15"),
        2: D("0.15"),
        3: D("0.05"),
        4: None,
    }


def test_price_is_cost_times_one_plus_margin_rounded_to_cents():
    assert price_compute(cost=D("100"), margin=D("0.20"), rounding=CENTS) == D("120.00")
    assert price_compute(cost=D("9.99"), margin=D("0.175"), rounding=CENTS) == D("11.74")  # 11.73825
    assert price_compute(cost=D("10.005"), margin=D("0"), rounding=CENTS) == D("10.01")  # half up


def test_configurable_rounding_steps_and_modes():
    assert price_compute(cost=D("10"), margin=D("0.234"), rounding=PriceRounding(step=D("0.05"))) == D(
        "12.35"
    )
    assert price_compute(
        cost=D("10"), margin=D("0.234"), rounding=PriceRounding(step=D("1"), mode="up")
    ) == D("13")
    assert price_compute(cost=D("10"), margin=D("0.234"), rounding=PriceRounding(mode="down")) == D("12.34")


def test_price_is_never_below_cost_even_after_rounding():
    assert price_compute(cost=D("10.0001"), margin=D("0"), rounding=CENTS) == D("10.01")
    assert price_compute(
        cost=D("10.3"), margin=D("0.01"), rounding=PriceRounding(step=D("1"), mode="down")
    ) == D("11")


def test_money_stays_decimal():
    assert isinstance(price_compute(cost=D("3.33"), margin=D("0.2"), rounding=CENTS), Decimal)


def test_invalid_rounding_is_refused():
    with pytest.raises(ValueError, match="positive"):
        PriceRounding(step=D("0"))
    with pytest.raises(ValueError, match="unknown rounding mode"):
        PriceRounding(mode="bankers")
