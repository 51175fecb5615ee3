"""Pure ingest rules: the missing-offer safety guard, change kinds, last-wins."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from procurement.ingest_rules import (
    StoredOffer,
    offer_change_kind,
    rows_last_wins,
    unseen_guard,
)

HALF = Decimal("0.5")


def guard(**kwargs):
    base = {"completed": True, "rows_valid": 100, "baseline_valid": 100, "min_ratio": HALF, "forced": False}
    return unseen_guard(**{**base, **kwargs})


def test_a_complete_read_similar_to_the_last_one_applies():
    assert guard().apply is True


def test_an_incomplete_read_never_zeroes_offers():
    decision = guard(completed=False)
    assert (decision.apply, decision.reason) == (False, "the feed was not read to the end")


def test_an_empty_feed_never_zeroes_offers():
    decision = guard(rows_valid=0, baseline_valid=None)
    assert (decision.apply, decision.reason) == (False, "no valid row was read")


@pytest.mark.parametrize(("valid", "applies"), [(49, False), (50, True), (51, True)])
def test_the_threshold_is_a_fraction_of_the_last_successful_run(valid, applies):
    decision = guard(rows_valid=valid)
    assert decision.apply is applies
    if not applies:
        assert decision.reason == "49 valid rows is below 50% of the last successful run (100 rows)"


def test_the_first_run_has_no_baseline():
    assert guard(rows_valid=3, baseline_valid=None).apply is True


def test_an_operator_can_force_it():
    decision = guard(completed=False, rows_valid=0, forced=True)
    assert (decision.apply, decision.reason) == (True, "forced by an operator")


def test_change_kinds():
    stored = StoredOffer(
        item_id=1, product_id=2, price=Decimal("1"), stock=1, row_hash="abc", last_read_run_id=None
    )
    assert offer_change_kind(stored=None, row_hash="abc") == "new"
    assert offer_change_kind(stored=stored, row_hash="abc") == "unchanged"
    assert offer_change_kind(stored=stored, row_hash="def") == "changed"


@dataclass
class Row:
    sku: str
    value: int


def test_the_last_row_of_a_sku_wins_at_its_position():
    rows, duplicates = rows_last_wins([Row("A", 1), Row("B", 2), Row("A", 3), Row("C", 4), Row("A", 5)])
    assert [(r.sku, r.value) for r in rows] == [("B", 2), ("C", 4), ("A", 5)]
    assert duplicates == ["A", "A"]
