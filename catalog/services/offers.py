"""Apply the catalog rules to many products at once: elect offers, price them, queue shop updates.

Everything here works on chunks of product ids in a handful of queries per chunk: lock the
products, read their offers and current state, compute with the pure policies, then write only
what changed (bulk upsert/delete of active offers, one upsert statement for the stream).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from catalog.conf import default_margin, guard_limits, price_rounding
from catalog.models import CatalogUpdateStream, PriceApproval, Product, ProductActiveOffer
from catalog.policies.election import Election, offer_elect
from catalog.policies.guard import GuardLimits, price_guard, state_while_held
from catalog.policies.landed import LandedRules
from catalog.policies.pricing import PriceRounding, margin_resolve, price_compute
from catalog.policies.shop_state import ShopProduct, ShopState
from catalog.policies.snapshot import ProductState, state_changes, stream_priority
from catalog.selectors import (
    CategoryFacts,
    SourceFacts,
    category_facts_get,
    offer_candidates_by_product,
    source_facts_get,
    supplier_margins_get,
)
from catalog.services.events import EventRow, product_events_insert
from catalog.services.update_stream import StreamChange, stream_changes_enqueue
from catalog.sql import dialect
from catalog.sql.tables import RECOMPUTE_SET
from genesys.counters import counters_add
from genesys.db import PlainValues, bulk_update, bulk_upsert, transaction_mutex

CHUNK_SIZE = 5000  # the reference path and the flag changes
SET_CHUNK_SIZE = 100_000  # the set path: one statement elects a chunk, only changes come back


Reason = CatalogUpdateStream.Reason


@dataclass
class RecomputeResult:
    products: int = 0
    offers_created: int = 0
    offers_updated: int = 0
    offers_removed: int = 0
    stream_rows: int = 0
    prices_held: int = 0
    changed_product_ids: list[int] = field(default_factory=list)

    def add(self, other: RecomputeResult) -> None:
        counters_add(self, other)


@dataclass(frozen=True)
class RecomputeRules:
    """Everything the computation needs besides the products themselves, read once per call."""

    categories: CategoryFacts
    sources: SourceFacts
    supplier_margins: dict[int, Decimal | None]
    rounding: PriceRounding
    default_margin: Decimal
    guard: GuardLimits  # the global limits; categories may set their own
    now: datetime

    def guard_limits(self, category_id: int | None) -> GuardLimits:
        change = None if category_id is None else self.categories.price_change_limits.get(category_id)
        floor = None if category_id is None else self.categories.min_margins.get(category_id)
        return GuardLimits(
            max_change=self.guard.max_change if change is None else change,
            min_margin=self.guard.min_margin if floor is None else floor,
        )


def recompute_rules(now: datetime | None) -> RecomputeRules:
    return RecomputeRules(
        categories=category_facts_get(),
        sources=source_facts_get(),
        supplier_margins=supplier_margins_get(),
        rounding=price_rounding(),
        default_margin=default_margin(),
        guard=guard_limits(),
        now=now or timezone.now(),
    )


def _chunks(ids: Iterable[int], size: int = CHUNK_SIZE) -> Iterable[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


_PRODUCT_FIELDS = (
    "id",
    "gtin",
    "partnumber",
    "name",
    "margin",
    "category_id",
    "is_enabled",
    "is_eol",
    "id_ecommerce",
    "weight",
    "shop_price",
)
_OFFER_FIELDS = (
    "active_offer__supplier_id",
    "active_offer__supplier_item_id",
    "active_offer__unit_cost",
    "active_offer__margin_applied",
    "active_offer__unit_price_sent",
    "active_offer__stock_sent",
)


def _state_of(row: dict) -> ProductState:
    if row["active_offer__supplier_id"] is None:
        return ProductState(is_enabled=row["is_enabled"], is_eol=row["is_eol"])
    return ProductState(
        is_enabled=row["is_enabled"],
        is_eol=row["is_eol"],
        supplier_id=row["active_offer__supplier_id"],
        supplier_item_id=row["active_offer__supplier_item_id"],
        unit_cost=row["active_offer__unit_cost"],
        margin_applied=row["active_offer__margin_applied"],
        unit_price_sent=row["active_offer__unit_price_sent"],
        stock_sent=row["active_offer__stock_sent"],
    )


RECOMPUTE_MUTEX = "genesys:catalog:recompute"


def recompute_mutex_take() -> None:
    """Serialise with every other recompute until this transaction ends (see below)."""
    with connection.cursor() as cursor:
        transaction_mutex(name=RECOMPUTE_MUTEX, cursor=cursor)


def recompute_chunk_lock(
    ids: Sequence[int], condition: Q | None = None
) -> tuple[dict[int, dict], dict[int, ProductState]]:
    """Take the recompute mutex for this transaction, then read the chunk's products and state.

    Recomputes (ingests, the EOL job, operator edits) serialise on one transaction-scoped mutex:
    each one reads after the previous one committed, so a slower recompute can never write an
    older election over a newer one. One query reads the products with their current active
    offer, which is the state the shop was last told about.
    """
    recompute_mutex_take()
    queryset = Product.objects.filter(id__any_of=PlainValues(ids)).order_by("id")
    if condition is not None:
        queryset = queryset.filter(condition)
    products: dict[int, dict] = {}
    states: dict[int, ProductState] = {}
    for row in queryset.values(*_PRODUCT_FIELDS, *_OFFER_FIELDS):
        products[row["id"]] = row
        states[row["id"]] = _state_of(row)
    return products, states


def _shop_product(product: Mapping[str, Any]) -> ShopProduct:
    return ShopProduct(
        id=product["id"],
        gtin=product["gtin"],
        partnumber=product["partnumber"],
        name=product["name"],
        margin=product["margin"],
        is_enabled=product["is_enabled"],
        is_eol=product["is_eol"],
        id_ecommerce=product["id_ecommerce"],
    )


def product_shop_payloads(*, product_ids: Iterable[int]) -> dict[int, dict]:
    """The stream payload (``ShopState`` as JSON) of each product's current state, as its last
    recompute left it.

    Nothing is re-elected. Callers that write the result into the stream must hold the recompute
    mutex (``RECOMPUTE_MUTEX``) from this read to their write, or a recompute committing in
    between would be overwritten by this older state.
    """
    rows = (
        Product.objects.filter(id__any_of=PlainValues(product_ids))
        .order_by()
        .values(*_PRODUCT_FIELDS, *_OFFER_FIELDS)
    )
    return {
        row["id"]: ShopState.of(product=_shop_product(row), state=_state_of(row)).to_json() for row in rows
    }


def _streams_for(product: Mapping[str, Any], rules: RecomputeRules) -> bool:
    """Products the shop knows, or may soon know through auto-import (see docs/catalog.md)."""
    return product["id_ecommerce"] is not None or product["category_id"] in rules.categories.auto_import


@dataclass(frozen=True, slots=True)
class _Decision:
    """One product's recompute before the guard: its old state and what the rules propose."""

    product: dict[str, Any]
    old: ProductState | None
    proposed: ProductState
    other_costs: Sequence[Decimal]  # the other eligible offers' landed costs (the guard's market)


def _policy_decisions(
    *, products: Mapping[int, dict], previous: Mapping[int, ProductState], rules: RecomputeRules
) -> list[_Decision]:
    """Elect and price with the Python policy (the reference the SQL election is checked against)."""
    if not products:
        return []
    candidates = offer_candidates_by_product(
        product_ids=list(products),
        sources=rules.sources,
        weights={pid: product["weight"] for pid, product in products.items()},
    )
    decisions = []
    for product_id, product in products.items():
        offers = candidates.get(product_id, ())
        election = offer_elect(offers)
        winner = election.winner if election else None
        decisions.append(
            _Decision(
                product=product,
                old=previous.get(product_id),
                proposed=_proposed_state(product, election, rules),
                other_costs=[c.cost for c in offers if c is not winner and c.ineligible_reason is None],
            )
        )
    return decisions


def recompute_chunk_apply(
    *,
    products: dict[int, dict],
    previous: Mapping[int, ProductState],
    reasons: Callable[[int], list[str]],
    rules: RecomputeRules,
    force_stream: bool = False,
    run_of: Mapping[int, int | None] | None = None,
) -> RecomputeResult:
    """Elect, price, guard, write the changed active offers and queue the shop updates for one chunk,
    all with the Python policy (the reference path; ``recompute_set_apply`` is the fast one).

    ``run_of`` names the feed run that marked each product, recorded on the prices it holds.
    """
    decisions = _policy_decisions(products=products, previous=previous, rules=rules)
    return _decisions_apply(
        decisions=decisions,
        products=len(products),
        reasons=reasons,
        rules=rules,
        force_stream=force_stream,
        run_of=run_of or {},
    )


@dataclass
class _Writes:
    """What one chunk writes, gathered per product and written in a few statements."""

    result: RecomputeResult
    upserts: list[tuple] = field(default_factory=list)
    removals: list[int] = field(default_factory=list)
    changes: list[StreamChange] = field(default_factory=list)

    def offer(self, *, product_id: int, old: ProductState | None, new: ProductState, now: datetime) -> None:
        """The active-offer row, when anything it stores changed."""
        same = old is not None and (
            (old.supplier_id, old.supplier_item_id, old.unit_cost, old.margin_applied)
            == (new.supplier_id, new.supplier_item_id, new.unit_cost, new.margin_applied)
            and (old.unit_price_sent, old.stock_sent) == (new.unit_price_sent, new.stock_sent)
        )
        if same:
            return
        if new.has_offer:
            self.upserts.append(
                (product_id, new.supplier_id, new.supplier_item_id, new.unit_cost, new.margin_applied,
                 new.unit_price_sent, new.stock_sent, now)
            )  # fmt: skip
            if old is not None and old.has_offer:
                self.result.offers_updated += 1
            else:
                self.result.offers_created += 1
        elif old is not None and old.has_offer:
            self.removals.append(product_id)
            self.result.offers_removed += 1

    def offers_write(self) -> None:
        if self.upserts:
            _active_offers_upsert(self.upserts)
        if self.removals:
            ProductActiveOffer.objects.filter(product_id__any_of=self.removals).delete()

    def stream_write(self, *, now: datetime) -> None:
        if self.changes:
            self.result.stream_rows = stream_changes_enqueue(changes=self.changes, now=now)


def _decisions_apply(
    *,
    decisions: Sequence[_Decision],
    products: int,
    reasons: Callable[[int], list[str]],
    rules: RecomputeRules,
    force_stream: bool,
    run_of: Mapping[int, int | None],
) -> RecomputeResult:
    """Guard each proposal, then write the active offers, held prices and shop updates that changed."""
    writes = _Writes(result=RecomputeResult(products=products))
    guard = _Guard(product_ids=[d.product["id"] for d in decisions], rules=rules, run_of=run_of)
    for decision in decisions:
        product, old = decision.product, decision.old
        product_id = product["id"]
        new = guard.apply(
            product=product, old=old, proposed=decision.proposed, other_costs=decision.other_costs
        )
        writes.offer(product_id=product_id, old=old, new=new, now=rules.now)
        if not (state_changes(old, new) or force_stream):
            continue
        writes.result.changed_product_ids.append(product_id)
        if _streams_for(product, rules):
            writes.changes.append(
                StreamChange(
                    product_id=product_id,
                    payload=ShopState.of(product=_shop_product(product), state=new),
                    reasons=reasons(product_id),
                    priority=stream_priority(old, new),
                )
            )
    writes.offers_write()
    guard.write()
    writes.result.prices_held = guard.held
    writes.stream_write(now=rules.now)
    return writes.result


def _proposed_state(product: dict, election: Election | None, rules: RecomputeRules) -> ProductState:
    """What the rules say the shop should show, before the price guard."""
    if election is None:
        return ProductState(is_enabled=product["is_enabled"], is_eol=product["is_eol"])
    winner = election.winner
    margin = margin_resolve(
        product_margin=product["margin"],
        category_margin=rules.categories.margins.get(product["category_id"]),
        supplier_margin=rules.supplier_margins.get(winner.supplier_id),
        default_margin=rules.default_margin,
    )
    return ProductState(
        is_enabled=product["is_enabled"],
        is_eol=product["is_eol"],
        supplier_id=winner.supplier_id,
        supplier_item_id=winner.supplier_item_id,
        unit_cost=winner.cost,
        margin_applied=margin,
        unit_price_sent=price_compute(cost=winner.cost, margin=margin, rounding=rules.rounding),
        stock_sent=election.stock_sent,
    )


# --- the set-based path: a staged set of products, elected and priced in SQL ---------------------


def recompute_facts(rules: RecomputeRules) -> dict[str, Any] | None:
    """The rules as plain JSON values for the SQL election (money as strings, exact).

    None when SQL cannot apply them: a rounding step of 1 or more that is not a whole number
    (``PriceRounding.apply`` then rounds the multiple again, half-even).
    """
    step = rules.rounding.step
    if step >= 1 and step != step.to_integral_value():
        return None
    feeds, suppliers = _source_facts(rules)
    categories = [
        {
            "category_id": cid,
            "margin": _text(margin),
            "max_change": _text(rules.categories.price_change_limits.get(cid)),
            "min_margin": _text(rules.categories.min_margins.get(cid)),
        }
        for cid, margin in rules.categories.margins.items()
    ]
    return {
        "feeds": feeds,
        "suppliers": suppliers,
        "categories": categories,
        "auto_import": sorted(rules.categories.auto_import),
        "default_margin": _text(rules.default_margin),
        "max_change": _text(rules.guard.max_change),
        "min_margin": _text(rules.guard.min_margin),
        "rounding_step": _text(step),
        "rounding_places": max(0, -int(step.as_tuple().exponent)) if step < 1 else 0,
        "rounding_mode": rules.rounding.mode,
    }


def _source_facts(rules: RecomputeRules) -> tuple[list[dict], list[dict]]:
    """Feeds (usable, rate, VAT divisor) and suppliers (priority, landed-cost terms, margin)."""
    sources = rules.sources
    feeds = []
    for feed_id, pricing in sources.feed_pricing.items():
        same = pricing.currency == sources.shop_currency
        rate = Decimal(1) if same else sources.rates.get(pricing.currency)
        vat = pricing.vat_rate if pricing.includes_vat else None
        feeds.append(
            {
                "feed_id": feed_id,
                "usable": feed_id in sources.active_feeds and rate is not None,
                "rate": _text(rate),
                "vat_divisor": _text(Decimal(1) + vat) if vat else None,
            }
        )
    suppliers = []
    for supplier_id, (priority, active) in sources.suppliers.items():
        landed = sources.landed_rules.get(supplier_id) or LandedRules()
        suppliers.append(
            {
                "supplier_id": supplier_id,
                "priority": priority,
                "usable": active,
                "shipping": _text(landed.per_item + landed.per_line),
                "percent": _text(landed.percent),
                "free_above": _text(landed.free_above),
                "margin": _text(rules.supplier_margins.get(supplier_id)),
                "policy": bool(landed.weight_bands),
            }
        )
    return feeds, suppliers


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def recompute_set_stage(*, product_ids: Iterable[int]) -> int:
    """Stage these products (those that exist) as this transaction's recompute set."""
    sql = dialect()
    with connection.cursor() as cursor:
        sql.recompute_set_reset(cursor)
        return sql.recompute_set_fill(cursor, product_ids=product_ids)


def recompute_set_apply(
    *,
    rules: RecomputeRules,
    reasons: Callable[[int], list[str]],
    staged: int,
    force_stream: bool = False,
    eol_reverted: Collection[int] = (),
) -> RecomputeResult:
    """``recompute_chunk_apply`` for the staged set, deciding in SQL what SQL can decide.

    PostgreSQL elects (the policy's ranking as a window over the set's offers), costs (landed
    cost) and prices every staged product in one statement, and keeps only the products whose
    shop state may change: a different election or price, an open price approval, a shop price
    out of step, a forced row. It writes itself those it settles alone (a price the guard lets
    through, no approval, nothing to stream: most of a first ingest); the rest go through the
    price guard and the writes in Python. The policy decides instead, per product, where SQL
    cannot:

    * an eligible offer from a supplier with a weight table (shipping depends on the band);
    * every product, when the rounding step is 1 or more and not whole (``recompute_facts``);
    * every product on SQLite (its decimals are floats).

    ``eol_reverted``: products whose EOL flag the caller cleared in this transaction; their old
    state is EOL, so the shop update carries the reversal. The caller holds the recompute mutex.
    """
    sql = dialect()
    facts = recompute_facts(rules) if sql.ELECTS_IN_SQL else None
    reverted = frozenset(eol_reverted)
    total = RecomputeResult(products=staged)
    if facts is None:
        products, previous, run_of = _staged_products_read(reverted)
        decisions = _policy_decisions(products=products, previous=previous, rules=rules)
        batches: Iterable[tuple[list[_Decision], dict[int, int | None]]] = [(decisions, run_of)]
    else:
        cursor = connection.chunked_cursor()
        settled, rows = sql.recompute_set_elect(
            cursor, facts=facts, now=rules.now, staged=staged, force=force_stream
        )
        counters_add(total, settled)  # the offers it wrote, the products it changed, prices held
        batches = (_sql_decisions(rows=batch, rules=rules, reverted=reverted) for batch in rows)
    try:
        for decisions, run_of in batches:
            chunk = _decisions_apply(
                decisions=decisions, products=0, reasons=reasons, rules=rules,
                force_stream=force_stream, run_of=run_of,
            )  # fmt: skip
            total.add(chunk)
    finally:
        if facts is not None:
            cursor.close()
    return total


def _was_eol(state: ProductState, reverted: frozenset[int], product_id: int) -> ProductState:
    return replace(state, is_eol=True) if product_id in reverted else state


def _staged_products_read(
    reverted: frozenset[int],
) -> tuple[dict[int, dict], dict[int, ProductState], dict[int, int | None]]:
    """The staged products with their state, for the policy (the ORM converts the decimals)."""
    staged = RawSQL(f"SELECT product_id FROM {RECOMPUTE_SET}", [])  # noqa: S608, S611 (our own table)
    products: dict[int, dict] = {}
    previous: dict[int, ProductState] = {}
    for row in Product.objects.filter(id__in=staged).order_by("id").values(*_PRODUCT_FIELDS, *_OFFER_FIELDS):
        products[row["id"]] = row
        previous[row["id"]] = _was_eol(_state_of(row), reverted, row["id"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT product_id, run_id FROM {RECOMPUTE_SET}")  # noqa: S608
        run_of = dict(cursor.fetchall())
    return products, previous, run_of


def _sql_decisions(
    *, rows: Sequence[tuple], rules: RecomputeRules, reverted: frozenset[int]
) -> tuple[list[_Decision], dict[int, int | None]]:
    """Decisions from the SQL election's rows (the rows it flags go to the policy)."""
    decisions: list[_Decision] = []
    for_policy: dict[int, dict] = {}
    policy_previous: dict[int, ProductState] = {}
    run_of: dict[int, int | None] = {}
    for row in rows:
        product = dict(zip(_PRODUCT_FIELDS, row[:11], strict=True))
        product_id = product["id"]
        old = _was_eol(_row_state(product, row[11:17]), reverted, product_id)
        run_of[product_id] = row[26]
        if row[24]:
            for_policy[product_id] = product
            policy_previous[product_id] = old
            continue
        decisions.append(
            _Decision(product=product, old=old, proposed=_row_proposal(product, row[17:23]),
                      other_costs=row[23] or ())
        )  # fmt: skip
    decisions.extend(_policy_decisions(products=for_policy, previous=policy_previous, rules=rules))
    return decisions, run_of


def _row_state(product: dict, offer: Sequence) -> ProductState:
    supplier_id, item_id, cost, margin, price, stock = offer
    if supplier_id is None:
        return ProductState(is_enabled=product["is_enabled"], is_eol=product["is_eol"])
    return ProductState(
        is_enabled=product["is_enabled"], is_eol=product["is_eol"], supplier_id=supplier_id,
        supplier_item_id=item_id, unit_cost=cost, margin_applied=margin, unit_price_sent=price,
        stock_sent=stock,
    )  # fmt: skip


def _row_proposal(product: dict, winner: Sequence) -> ProductState:
    item_id, supplier_id, cost, margin, price, stock_sent = winner
    if item_id is None:
        return ProductState(is_enabled=product["is_enabled"], is_eol=product["is_eol"])
    return ProductState(
        is_enabled=product["is_enabled"], is_eol=product["is_eol"], supplier_id=supplier_id,
        supplier_item_id=item_id, unit_cost=cost, margin_applied=margin, unit_price_sent=price,
        stock_sent=stock_sent,
    )  # fmt: skip


Status = PriceApproval.Status


class _Guard:
    """The price-jump guard over one chunk: reads the open proposals once, decides per product,
    writes the proposal changes and the shop prices in a few statements (``write``)."""

    def __init__(
        self, *, product_ids: list[int], rules: RecomputeRules, run_of: Mapping[int, int | None]
    ) -> None:
        self.rules = rules
        self.run_of = run_of
        self.open: dict[int, dict] = {}  # product -> its pending proposal or unsent approval
        for row in (
            PriceApproval.objects.filter(product_id__any_of=PlainValues(product_ids))
            .filter(Q(status=Status.PENDING) | Q(status=Status.APPROVED, applied_at__isnull=True))
            .order_by("id")
            .values("id", "product_id", "status", "new_price", "supplier_item_id")
        ):
            self.open[row["product_id"]] = dict(row)
        self.closed: list[int] = []  # open rows no longer relevant: superseded
        self.applied: list[int] = []  # approvals whose price went out now
        self.created: list[PriceApproval] = []
        self.shop_prices: list[tuple[int, Decimal]] = []
        self.held = 0

    def apply(
        self,
        *,
        product: dict,
        old: ProductState | None,
        proposed: ProductState,
        other_costs: Sequence[Decimal],
    ) -> ProductState:
        """The state to send: ``proposed``, or the old price kept while the new one waits."""
        product_id = product["id"]
        last_price = old.unit_price_sent if old is not None and old.has_offer else product["shop_price"]
        pending = self.open.get(product_id)
        new_price, landed_cost = proposed.unit_price_sent, proposed.unit_cost
        if not proposed.has_offer or new_price is None or landed_cost is None or new_price == last_price:
            return self._passed(product, proposed, pending, approved=False)
        approved = (
            pending is not None
            and pending["status"] == Status.APPROVED
            and pending["supplier_item_id"] == proposed.supplier_item_id
            and pending["new_price"] == proposed.unit_price_sent
        )
        verdict = price_guard(
            new_price=new_price,
            landed_cost=landed_cost,
            last_price=last_price,
            limits=self.rules.guard_limits(product["category_id"]),
            other_costs=other_costs,
            typical_margin=self._typical_margin(product["category_id"]),
            approved_price=proposed.unit_price_sent if approved else None,
        )
        if not verdict.held:
            return self._passed(product, proposed, pending, approved=approved)
        self.held += 1
        same = (
            pending is not None
            and pending["status"] == Status.PENDING
            and pending["supplier_item_id"] == proposed.supplier_item_id
            and pending["new_price"] == proposed.unit_price_sent
        )
        if not same:
            if pending is not None:
                self.closed.append(pending["id"])
            self.created.append(
                PriceApproval(
                    product_id=product_id,
                    supplier_id=proposed.supplier_id,
                    supplier_item_id=proposed.supplier_item_id,
                    run_id=self.run_of.get(product_id),
                    old_price=last_price,
                    new_price=proposed.unit_price_sent,
                    unit_cost=proposed.unit_cost,
                    margin_applied=proposed.margin_applied,
                    reasons=list(verdict.reasons),
                    created_at=self.rules.now,
                    updated_at=self.rules.now,
                )
            )
        return state_while_held(proposed=proposed, last_price=last_price)

    def _typical_margin(self, category_id: int | None) -> Decimal:
        margin = None if category_id is None else self.rules.categories.margins.get(category_id)
        return self.rules.default_margin if margin is None else margin

    def _passed(
        self, product: dict, state: ProductState, pending: dict | None, *, approved: bool
    ) -> ProductState:
        if pending is not None:
            (self.applied if approved else self.closed).append(pending["id"])
        price = state.unit_price_sent
        if state.has_offer and price is not None and price != product["shop_price"]:
            self.shop_prices.append((product["id"], price))
        return state

    def write(self) -> None:
        now = self.rules.now
        if self.closed:
            PriceApproval.objects.filter(id__any_of=self.closed).update(
                status=Status.SUPERSEDED, updated_at=now
            )
        if self.applied:
            PriceApproval.objects.filter(id__any_of=self.applied).update(applied_at=now, updated_at=now)
        if self.created:
            PriceApproval.objects.bulk_create(self.created)
        if self.shop_prices:
            with connection.cursor() as cursor:
                bulk_update(
                    table=Product._meta.db_table,
                    key=("id", "bigint"),
                    columns=[("shop_price", "numeric")],
                    rows=self.shop_prices,
                    cursor=cursor,
                )


_OFFER_COLUMNS = (
    ("product_id", "bigint"),
    ("supplier_id", "bigint"),
    ("supplier_item_id", "bigint"),
    ("unit_cost", "numeric"),
    ("margin_applied", "numeric"),
    ("unit_price_sent", "numeric"),
    ("stock_sent", "integer"),
    ("updated_at", "timestamptz"),
)


def _active_offers_upsert(rows: list[tuple]) -> None:
    update = ", ".join(f"{name} = excluded.{name}" for name, _ in _OFFER_COLUMNS[1:])
    with connection.cursor() as cursor:
        bulk_upsert(
            table=ProductActiveOffer._meta.db_table,
            columns=_OFFER_COLUMNS,
            rows=rows,
            conflict="(product_id)",
            update=update,
            cursor=cursor,
        )


def _reasons_getter(reasons: Mapping[int, Sequence[str]] | None, default: str) -> Callable[[int], list[str]]:
    def get(product_id: int) -> list[str]:
        specific = reasons.get(product_id) if reasons else None
        return list(dict.fromkeys(specific)) if specific else [default]

    return get


def active_offers_recompute(
    *,
    product_ids: Iterable[int],
    reason: str,
    reasons: Mapping[int, Sequence[str]] | None = None,
    force_stream: bool = False,
    now: datetime | None = None,
) -> RecomputeResult:
    """Re-elect and re-price these products; queue a shop update for each whose state changed.

    ``reason`` labels the stream rows (``reasons`` may give specific ones per product).
    ``force_stream`` queues a row even without a change (an operator's "resync").
    One transaction per chunk: a long recompute never holds locks on the whole catalog.
    """
    rules = recompute_rules(now)
    total = RecomputeResult()
    get_reasons = _reasons_getter(reasons, reason)
    for chunk in _chunks(product_ids, SET_CHUNK_SIZE):
        with transaction.atomic():
            recompute_mutex_take()
            staged = recompute_set_stage(product_ids=chunk)
            total.add(
                recompute_set_apply(
                    rules=rules, reasons=get_reasons, staged=staged, force_stream=force_stream
                )
            )
    return total


@dataclass
class FlagsResult(RecomputeResult):
    flagged_product_ids: list[int] = field(default_factory=list)


def products_flags_set(
    *,
    product_ids: Iterable[int],
    reason: str,
    is_eol: bool | None = None,
    is_enabled: bool | None = None,
    condition: Q | None = None,
    event_note: str = "",
    run_id: int | None = None,
    now: datetime | None = None,
) -> FlagsResult:
    """Change EOL/enabled flags of products and bring their shop state along, per chunk.

    The previous state is captured under the row lock *before* the flags change, so the shop
    update carries the change. ``condition`` is re-checked under the lock (the EOL job passes its
    rule, so a product that got stock meanwhile is left alone). EOL changes write an
    ``eol_marked`` / ``eol_reverted`` event.
    """
    rules = recompute_rules(now)
    total = FlagsResult()
    target = Q()
    if is_eol is not None:
        target |= ~Q(is_eol=is_eol)
    if is_enabled is not None:
        target |= ~Q(is_enabled=is_enabled)
    if is_eol is None and is_enabled is None:
        return total
    full_condition = target if condition is None else (target & condition)
    get_reasons = _reasons_getter(None, reason)
    updates: dict[str, bool] = {}
    if is_eol is not None:
        updates["is_eol"] = is_eol
    if is_enabled is not None:
        updates["is_enabled"] = is_enabled
    for chunk in _chunks(product_ids):
        with transaction.atomic():
            products, previous = recompute_chunk_lock(chunk, full_condition)
            if not products:
                continue
            _flags_write(products=products, updates=updates, now=rules.now, run_id=run_id, note=event_note)
            total.flagged_product_ids.extend(products)
            total.add(
                recompute_chunk_apply(products=products, previous=previous, reasons=get_reasons, rules=rules)
            )
    return total


def _flags_write(
    *, products: dict[int, dict], updates: dict[str, bool], now: datetime, run_id: int | None, note: str
) -> None:
    """Write the new flags (and the EOL events) of the locked products, and apply them to the rows
    read, whose previous state was captured before."""
    from catalog.models import ProductSupplierEvent

    ids = list(products)
    Product.objects.filter(id__any_of=ids).update(**updates, updated_at=now)
    is_eol = updates.get("is_eol")
    if is_eol is not None:
        reason = (
            ProductSupplierEvent.Reason.EOL_MARKED if is_eol else ProductSupplierEvent.Reason.EOL_REVERTED
        )
        product_events_insert(
            events=[
                EventRow(pid, reason, now, run_id=run_id, note=note)
                for pid in ids
                if products[pid]["is_eol"] != is_eol
            ]
        )
    for row in products.values():
        row.update(updates)
