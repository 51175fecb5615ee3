"""Which supplier offer a product is sold from (the active offer).

Rules (issue #4): candidates are offers from active suppliers and feeds with a cost above zero.
Costs are landed costs in the shop's currency (catalog.policies.landed); an offer whose feed
currency has no exchange rate cannot be costed and is not eligible.
The winner is the cheapest offer in stock; ties go to the larger stock, then the supplier's
priority (higher wins), then the oldest offer (the lowest id: offers are created once and updated
in place, so ids follow their age). With nothing in stock, the cheapest offer is kept
so the shop shows "out of stock" at a real price. With no candidate, there is no active offer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop

from catalog.policies.landed import LandedCost


def _render(message: str, params: dict) -> str:
    return gettext(message) % params if params else gettext(message)


# A verdict is rendered when it is shown, in the reader's language; the policy itself reads no
# settings and no database (the message ids are marked for makemessages with gettext_noop).
_text = lazy(_render, str)


@dataclass(frozen=True, slots=True)
class OfferCandidate:
    supplier_item_id: int
    supplier_id: int
    cost: Decimal
    stock: int
    supplier_priority: int
    supplier_active: bool = True
    feed_active: bool = True
    landed: LandedCost | None = None  # how ``cost`` was worked out from the feed's price
    cost_problem: str = ""  # why no landed cost could be worked out

    @property
    def ineligible_reason(self) -> str | None:
        if self.cost_problem:
            return self.cost_problem
        if not self.supplier_active:
            return _text(gettext_noop("supplier inactive"), {})
        if not self.feed_active:
            return _text(gettext_noop("feed inactive"), {})
        if self.cost <= 0:
            return _text(gettext_noop("no cost price"), {})
        return None


@dataclass(frozen=True, slots=True)
class Election:
    winner: OfferCandidate
    stock_sent: int  # the winner's stock, or 0 when nothing is in stock


def _rank(offer: OfferCandidate) -> tuple:
    # Smaller sorts first: cost, then more stock, then higher priority, then the older offer.
    return (offer.cost, -offer.stock, -offer.supplier_priority, offer.supplier_item_id)


def offer_elect(candidates: Iterable[OfferCandidate]) -> Election | None:
    """The active offer among ``candidates``, or None when no offer may be sold."""
    eligible = [c for c in candidates if c.ineligible_reason is None]
    if not eligible:
        return None
    in_stock = [c for c in eligible if c.stock > 0]
    if in_stock:
        winner = min(in_stock, key=_rank)
        return Election(winner=winner, stock_sent=winner.stock)
    return Election(winner=min(eligible, key=_rank), stock_sent=0)


def offer_election_explain(candidates: Sequence[OfferCandidate]) -> list[tuple[OfferCandidate, bool, str]]:
    """Every candidate with whether it won and why, in ranking order, for the admin."""
    election = offer_elect(candidates)
    winner = election.winner if election else None
    any_in_stock = any(c.stock > 0 and c.ineligible_reason is None for c in candidates)
    explained: list[tuple[OfferCandidate, bool, str]] = []
    for offer in sorted(candidates, key=lambda c: (c.ineligible_reason is not None, c.stock <= 0, _rank(c))):
        explained.append((offer, offer is winner, _verdict(offer, winner, any_in_stock)))
    return explained


def _verdict(offer: OfferCandidate, winner: OfferCandidate | None, any_in_stock: bool) -> str:
    reason = offer.ineligible_reason
    if reason:
        return _text(gettext_noop("not eligible: %(reason)s"), {"reason": reason})
    if winner is None:
        return _text(gettext_noop("no winner"), {})
    if offer is winner:
        if any_in_stock:
            return _text(gettext_noop("cheapest landed cost in stock"), {})
        return _text(gettext_noop("cheapest landed cost; nothing in stock (stock sent 0)"), {})
    if any_in_stock and offer.stock <= 0:
        return _text(gettext_noop("out of stock"), {})
    if offer.cost > winner.cost:
        return _text(
            gettext_noop("more expensive (%(cost)s > %(winner)s)"),
            {"cost": offer.cost, "winner": winner.cost},
        )
    if offer.stock < winner.stock:
        return _text(
            gettext_noop("same cost, less stock (%(stock)s < %(winner)s)"),
            {"stock": offer.stock, "winner": winner.stock},
        )
    if offer.supplier_priority < winner.supplier_priority:
        return _text(
            gettext_noop("same cost and stock, lower supplier priority (%(priority)s)"),
            {"priority": offer.supplier_priority},
        )
    return _text(gettext_noop("same cost, stock and priority; an older offer won"), {})
