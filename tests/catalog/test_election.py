"""Offer election rules, without a database."""

from decimal import Decimal

from catalog.policies.election import OfferCandidate, offer_elect, offer_election_explain


def offer(item_id, *, cost, stock, priority=0, supplier=None, **flags):
    return OfferCandidate(
        supplier_item_id=item_id,
        supplier_id=supplier or item_id,
        cost=Decimal(cost),
        stock=stock,
        supplier_priority=priority,
        **flags,
    )


def test_cheapest_offer_in_stock_wins():
    election = offer_elect(
        [offer(1, cost="10", stock=5), offer(2, cost="9", stock=1), offer(3, cost="8", stock=0)]
    )
    assert election.winner.supplier_item_id == 2
    assert election.stock_sent == 1


def test_equal_cost_goes_to_the_larger_stock():
    election = offer_elect([offer(1, cost="10", stock=5), offer(2, cost="10", stock=7)])
    assert election.winner.supplier_item_id == 2


def test_equal_cost_and_stock_goes_to_the_higher_supplier_priority():
    election = offer_elect(
        [offer(1, cost="10", stock=5, priority=1), offer(2, cost="10", stock=5, priority=9)]
    )
    assert election.winner.supplier_item_id == 2


def test_full_tie_goes_to_the_oldest_offer_whatever_the_order_given():
    older, newer = offer(3, cost="10", stock=5), offer(7, cost="10", stock=5)
    assert offer_elect([newer, older]).winner.supplier_item_id == 3
    assert offer_elect([older, newer]).winner.supplier_item_id == 3


def test_nothing_in_stock_keeps_the_cheapest_offer_with_stock_sent_zero():
    election = offer_elect([offer(1, cost="12", stock=0), offer(2, cost="11", stock=0)])
    assert election.winner.supplier_item_id == 2
    assert election.stock_sent == 0


def test_inactive_suppliers_inactive_feeds_and_zero_costs_are_not_candidates():
    election = offer_elect(
        [
            offer(1, cost="5", stock=9, supplier_active=False),
            offer(2, cost="6", stock=9, feed_active=False),
            offer(3, cost="0", stock=9),
            offer(4, cost="20", stock=1),
        ]
    )
    assert election.winner.supplier_item_id == 4


def test_no_candidate_means_no_active_offer():
    assert offer_elect([]) is None
    assert (
        offer_elect([offer(1, cost="0", stock=3), offer(2, cost="4", stock=3, supplier_active=False)]) is None
    )


def test_explanation_says_why_each_offer_won_or_lost():
    explained = offer_election_explain(
        [
            offer(1, cost="10", stock=5),
            offer(2, cost="12", stock=9),
            offer(3, cost="8", stock=0),
            offer(4, cost="10", stock=2),
            offer(5, cost="1", stock=9, supplier_active=False),
        ]
    )
    verdicts = {o.supplier_item_id: (won, why) for o, won, why in explained}
    assert verdicts[1] == (True, "cheapest landed cost in stock")
    assert verdicts[2] == (False, "more expensive (12 > 10)")
    assert verdicts[3] == (False, "out of stock")
    assert verdicts[4] == (False, "same cost, less stock (2 < 5)")
    assert verdicts[5] == (False, "not eligible: supplier inactive")
    assert explained[0][0].supplier_item_id == 1
