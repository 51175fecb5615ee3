"""counters_add: a run's total is the field-wise sum of its parts."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from genesys.counters import counters_add


@dataclass
class Total:
    rows: int = 0
    seconds: float = 0.0
    amount: Decimal = Decimal(0)
    ids: list[int] = field(default_factory=list)
    skus: set[str] = field(default_factory=set)


@dataclass
class Part:
    rows: int = 0
    ids: list[int] = field(default_factory=list)
    skus: set[str] = field(default_factory=set)
    extra: int = 0  # not in the total: ignored


def test_numbers_sum_lists_extend_sets_unite():
    total = Total(rows=2, seconds=1.5, amount=Decimal("1.10"), ids=[1], skus={"A"})
    counters_add(total, Total(rows=3, seconds=0.5, amount=Decimal("2.20"), ids=[2], skus={"A", "B"}))
    assert total == Total(rows=5, seconds=2.0, amount=Decimal("3.30"), ids=[1, 2], skus={"A", "B"})


def test_a_part_of_another_class_adds_the_fields_both_have():
    total = counters_add(Total(rows=1), Part(rows=4, ids=[7], extra=9))
    assert total.rows == 5 and total.ids == [7] and not hasattr(total, "extra")


def test_fields_limit_what_is_added():
    total = counters_add(Total(rows=1, ids=[1]), Total(rows=1, ids=[2]), fields=["rows"])
    assert total.rows == 2 and total.ids == [1]


def test_flags_and_texts_are_not_counters():
    @dataclass
    class Flagged:
        stopped: bool = False
        error: str = ""

    with pytest.raises(TypeError, match="stopped is a flag"):
        counters_add(Flagged(), Flagged(stopped=True))
    with pytest.raises(TypeError, match="error"):
        counters_add(Flagged(), Flagged(error="x"), fields=["error"])
