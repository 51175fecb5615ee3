"""Reads of the catalog: rich, set-based queries. Nothing here writes.

This is the one catalog module that reads procurement's models (the supplier offers the catalog
elects from, and the suppliers' and feeds' terms): the rest of the catalog goes through the
functions here and names an offer ``Offer``. The import-linter contract in pyproject.toml allows
exactly this import from catalog up to procurement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext

from catalog.conf import default_margin, price_rounding
from catalog.models import Category, CurrencyRate, Product, ProductSupplierEvent
from catalog.policies.election import OfferCandidate, offer_election_explain
from catalog.policies.landed import (
    FeedPricing,
    LandedCost,
    LandedRules,
    WeightTableError,
    landed_cost_compute,
    weight_table_parse,
)
from catalog.policies.pricing import category_margins_inherit, margin_resolve, price_compute
from genesys.db import PlainValues
from procurement.models import Supplier, SupplierFeed, SupplierItem

# A supplier's offer of a product (procurement's ``SupplierItem``), as the catalog names it.
Offer = SupplierItem


@dataclass(frozen=True, slots=True)
class CategoryFacts:
    """What recompute needs of the category tree, loaded once (it is small)."""

    margins: dict[int, Decimal | None]  # effective margin per category (inherited)
    auto_import: frozenset[int]
    price_change_limits: dict[int, Decimal | None] = field(default_factory=dict)  # inherited
    min_margins: dict[int, Decimal | None] = field(default_factory=dict)  # inherited


def category_facts_get() -> CategoryFacts:
    rows = list(
        Category.objects.values_list(
            "id", "parent_id", "margin", "auto_import", "price_change_limit", "min_margin"
        )
    )
    parents = {r[0]: r[1] for r in rows}
    return CategoryFacts(
        margins=category_margins_inherit(parents=parents, margins={r[0]: r[2] for r in rows}),
        auto_import=frozenset(r[0] for r in rows if r[3]),
        price_change_limits=category_margins_inherit(parents=parents, margins={r[0]: r[4] for r in rows}),
        min_margins=category_margins_inherit(parents=parents, margins={r[0]: r[5] for r in rows}),
    )


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """Suppliers' and feeds' flags, priorities and landed-cost terms, and the newest exchange
    rates (few rows), read once per recompute."""

    suppliers: dict[int, tuple[int, bool]]  # id -> (priority, is_active)
    active_feeds: frozenset[int]
    feed_pricing: dict[int, FeedPricing] = field(default_factory=dict)
    landed_rules: dict[int, LandedRules] = field(default_factory=dict)
    rates: dict[str, Decimal] = field(default_factory=dict)  # currency -> newest rate to the shop's
    shop_currency: str = "EUR"


def source_facts_get() -> SourceFacts:
    shop_currency = settings.GENESYS_SHOP_CURRENCY
    feed_pricing: dict[int, FeedPricing] = {}
    active_feeds = set()
    for fid, active, currency, with_vat, vat_rate in SupplierFeed.objects.values_list(
        "id", "is_active", "currency", "prices_include_vat", "vat_rate"
    ):
        feed_pricing[fid] = FeedPricing(currency or shop_currency, with_vat, vat_rate)
        if active:
            active_feeds.add(fid)
    suppliers: dict[int, tuple[int, bool]] = {}
    landed_rules: dict[int, LandedRules] = {}
    for row in Supplier.objects.values_list("id", "priority", "is_active", *Supplier.LANDED_COST_FIELDS):
        sid, prio, active, per_item, per_line, percent, table, free_above = row
        suppliers[sid] = (prio, active)
        try:
            bands = weight_table_parse(table)
        except WeightTableError:
            bands = ()  # the admin validates the table; a bad one from elsewhere adds nothing
        landed_rules[sid] = LandedRules(per_item, per_line, percent, bands, free_above)
    return SourceFacts(
        suppliers=suppliers,
        active_feeds=frozenset(active_feeds),
        feed_pricing=feed_pricing,
        landed_rules=landed_rules,
        rates=currency_rates_latest(),
        shop_currency=shop_currency,
    )


def currency_rates_latest() -> dict[str, Decimal]:
    """The newest rate of every currency (the table holds a row per currency and day)."""
    newest = CurrencyRate.objects.filter(currency=OuterRef("currency")).order_by("-date").values("date")[:1]
    return dict(CurrencyRate.objects.filter(date=Subquery(newest)).order_by().values_list("currency", "rate"))


def offer_landed_cost(
    *, price: Decimal, feed_id: int, supplier_id: int, weight: Decimal | None, sources: SourceFacts
) -> tuple[LandedCost | None, str]:
    """An offer's landed cost in the shop's currency, or why there is none."""
    pricing = sources.feed_pricing.get(feed_id) or FeedPricing(sources.shop_currency)
    rate: Decimal | None
    if pricing.currency == sources.shop_currency:
        rate = Decimal(1)
    else:
        rate = sources.rates.get(pricing.currency)
        if rate is None:
            return None, gettext("no exchange rate for %(currency)s") % {"currency": pricing.currency}
    rules = sources.landed_rules.get(supplier_id) or LandedRules()
    return landed_cost_compute(price=price, feed=pricing, rate=rate, rules=rules, weight=weight), ""


def offer_landed_cost_explain(
    *, item: SupplierItem, weight: Decimal | None, sources: SourceFacts | None = None
) -> str:
    """How an offer's landed cost is worked out, for operators (or why it cannot be)."""
    sources = sources or source_facts_get()
    landed, problem = offer_landed_cost(
        price=item.price, feed_id=item.feed_id, supplier_id=item.supplier_id, weight=weight, sources=sources
    )
    return problem if landed is None else landed.explain(shop_currency=sources.shop_currency)


def offer_candidates_by_product(
    *,
    product_ids: Sequence[int],
    sources: SourceFacts | None = None,
    weights: Mapping[int, Decimal | None] | None = None,
) -> dict[int, list[OfferCandidate]]:
    """Every supplier offer of these products with what election needs, in one query.

    Offers on hold (``SupplierItem.hold_reason``) are not candidates: they wait for an operator.
    Each candidate's cost is its landed cost in the shop's currency, worked out from the feed's
    price, the feed's currency and VAT, the supplier's rules and the product's weight
    (``weights``; read here when not given).

    No joins: supplier and feed facts come from ``sources`` (a few rows read once), which keeps
    this query an index scan over the offers alone.
    """
    sources = sources or source_facts_get()
    if weights is None:
        weights = dict(
            Product.objects.filter(id__any_of=PlainValues(product_ids)).values_list("id", "weight")
        )
    rows = (
        SupplierItem.objects.filter(product_id__any_of=PlainValues(product_ids), hold_reason="")
        .order_by()
        .values_list("product_id", "id", "supplier_id", "feed_id", "price", "stock")
    )
    by_product: dict[int, list[OfferCandidate]] = defaultdict(list)
    suppliers, active_feeds = sources.suppliers, sources.active_feeds
    for product_id, item_id, supplier_id, feed_id, price, stock in rows:
        priority, supplier_active = suppliers.get(supplier_id, (0, False))
        landed, problem = offer_landed_cost(
            price=price, feed_id=feed_id, supplier_id=supplier_id, weight=weights.get(product_id),
            sources=sources,
        )  # fmt: skip
        by_product[product_id].append(
            OfferCandidate(
                supplier_item_id=item_id,
                supplier_id=supplier_id,
                # An offer without a feed price stays at 0 (not eligible: "no cost price").
                cost=landed.total
                if landed is not None and price > 0
                else (price if not problem else Decimal(0)),
                stock=stock,
                supplier_priority=priority,
                supplier_active=supplier_active,
                feed_active=feed_id in active_feeds,
                landed=landed,
                cost_problem=problem,
            )
        )
    return by_product


def supplier_margins_get() -> dict[int, Decimal | None]:
    """Every supplier's margin (suppliers are few; read once per recompute)."""
    return dict(Supplier.objects.values_list("id", "margin"))


def product_ids_offered_in_currencies(*, currencies: Sequence[str]) -> QuerySet:
    """Products with an offer from a feed priced in one of these currencies."""
    return (
        SupplierItem.objects.filter(feed__currency__in=list(currencies))
        .values_list("product_id", flat=True)
        .distinct()
    )


def product_eol_rule(*, cutoff) -> Q:
    """The end-of-life rule as a condition on products (correlated, so it can re-check a chunk).

    Old enough, and no stock seen since ``cutoff`` and none in stock now. "Never had an event
    with stock > 0, or the last one is older than the cutoff" is the same as "no event with
    stock > 0 at or after the cutoff". Products that have an offer in stock right now are
    excluded too: events are only written on change, so an offer in stock for months without a
    change has no recent event, and marking it would flap at the next ingest.
    """
    recent_stock = ProductSupplierEvent.objects.filter(
        product_id=OuterRef("pk"), new_stock__gt=0, created_at__gte=cutoff
    )
    in_stock_now = SupplierItem.objects.filter(product_id=OuterRef("pk"), stock__gt=0)
    return Q(created_at__lt=cutoff) & ~Exists(recent_stock) & ~Exists(in_stock_now)


def products_eol_candidates(*, cutoff) -> QuerySet[Product]:
    """Products not yet EOL that the end-of-life rule retires."""
    return Product.objects.filter(Q(is_eol=False) & product_eol_rule(cutoff=cutoff))


def product_ids_in_category_tree(*, category_id: int) -> QuerySet:
    """Products of a category and its descendants (margins are inherited down the tree)."""
    rows = list(Category.objects.values_list("id", "parent_id"))
    children: dict[int | None, list[int]] = defaultdict(list)
    for cid, parent in rows:
        children[parent].append(cid)
    tree, todo = set(), [category_id]
    while todo:
        node = todo.pop()
        if node not in tree:
            tree.add(node)
            todo.extend(children.get(node, []))
    return Product.objects.filter(category_id__in=tree).values_list("id", flat=True)


def product_ids_offered_by_supplier(*, supplier_id: int) -> QuerySet:
    return Product.objects.filter(Q(offers__supplier_id=supplier_id)).values_list("id", flat=True).distinct()


@dataclass(frozen=True, slots=True)
class OfferExplanation:
    """One supplier offer of a product, as the admin explains the election."""

    supplier_item: SupplierItem
    won: bool
    verdict: str
    margin: Decimal
    price_if_elected: Decimal | None
    landed_cost: Decimal | None = None
    landed_explained: str = ""  # "325.71 € = 7,990 CZK x 0.03957 + 9.50 € shipping"
    currency: str = ""  # of the feed's price


def product_election_explain(*, product: Product) -> list[OfferExplanation]:
    """Every offer of a product with why it won or lost, its landed cost and how it was worked
    out, and the price it would be sold at."""
    sources = source_facts_get()
    candidates = offer_candidates_by_product(
        product_ids=[product.pk], sources=sources, weights={product.pk: product.weight}
    ).get(product.pk, [])
    items = {
        item.pk: item
        for item in SupplierItem.objects.filter(product=product).select_related("supplier", "feed")
    }
    category_id = product.category_id
    category_margin = category_facts_get().margins.get(category_id) if category_id is not None else None
    rounding = price_rounding()
    explained = []
    for candidate, won, verdict in offer_election_explain(candidates):
        item = items[candidate.supplier_item_id]
        margin = margin_resolve(
            product_margin=product.margin,
            category_margin=category_margin,
            supplier_margin=item.supplier.margin,
            default_margin=default_margin(),
        )
        eligible = candidate.cost > 0 and not candidate.cost_problem
        price = price_compute(cost=candidate.cost, margin=margin, rounding=rounding) if eligible else None
        landed_text = (
            candidate.landed.explain(shop_currency=sources.shop_currency) if candidate.landed else ""
        )
        if won and landed_text:
            verdict = f"{verdict}: {landed_text}"
        explained.append(
            OfferExplanation(
                item,
                won,
                verdict,
                margin,
                price,
                landed_cost=candidate.cost if eligible else None,
                landed_explained=landed_text,
                currency=candidate.landed.currency if candidate.landed else "",
            )
        )
    return explained


@dataclass(frozen=True, slots=True)
class ProductShopState:
    """What the shop was, or is about to be, told about a product (the API's product page)."""

    active_offer: Any  # ProductActiveOffer | None, with its supplier
    pending_stream_row: Any  # CatalogUpdateStream | None: the change not sent yet
    price_waiting: Any  # PriceApproval | None: a new price held for an operator


PRODUCT_ID_MAX = 2**63 - 1


def product_find(*, reference: str) -> Product | None:
    """A product by GTIN (its 8, 12, 13 or 14-digit form, with a valid check digit) or by id.

    A number that is a valid GTIN is looked up as one first, then as an id: ids and GTINs do not
    overlap in practice (ids are small, GTINs long), and when they do the GTIN is what a caller
    holding a barcode meant.
    """
    from catalog.gtin import gtin_is_valid

    text = reference.strip()
    if not text.isascii() or not text.isdigit():
        return None
    products = Product.objects.select_related("brand", "category")
    if gtin_is_valid(text):
        found = products.filter(gtin=text.zfill(14)).first()
        if found is not None:
            return found
    number = int(text)
    return products.filter(pk=number).first() if 0 < number <= PRODUCT_ID_MAX else None


def product_shop_state(*, product_id: int) -> ProductShopState:
    """The active offer, the shop update waiting to be sent (pending, or being sent) and the price
    waiting for approval of one product; three indexed reads."""
    from catalog.models import CatalogUpdateStream, PriceApproval, ProductActiveOffer

    waiting = (CatalogUpdateStream.Status.PENDING, CatalogUpdateStream.Status.PROCESSING)
    return ProductShopState(
        active_offer=ProductActiveOffer.objects.select_related("supplier")
        .filter(product_id=product_id)
        .first(),
        pending_stream_row=CatalogUpdateStream.objects.filter(product_id=product_id, status__in=waiting)
        .order_by("-id")
        .first(),
        price_waiting=PriceApproval.objects.filter(
            product_id=product_id, status=PriceApproval.Status.PENDING
        ).first(),
    )
