"""Reads of the catalog: rich, set-based queries. Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.models import Category, Product, ProductSupplierEvent
from catalog.policies.election import OfferCandidate
from catalog.policies.pricing import category_margins_inherit
from procurement.models import SupplierItem


@dataclass(frozen=True, slots=True)
class CategoryFacts:
    """What recompute needs of the category tree, loaded once (it is small)."""

    margins: dict[int, Decimal | None]  # effective margin per category (inherited)
    auto_import: frozenset[int]


def category_facts_get() -> CategoryFacts:
    rows = list(Category.objects.values_list("id", "parent_id", "margin", "auto_import"))
    margins = category_margins_inherit(parents={r[0]: r[1] for r in rows}, margins={r[0]: r[2] for r in rows})
    return CategoryFacts(margins=margins, auto_import=frozenset(r[0] for r in rows if r[3]))


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """Suppliers' and feeds' flags and priorities (few rows), read once per recompute."""

    suppliers: dict[int, tuple[int, bool]]  # id -> (priority, is_active)
    active_feeds: frozenset[int]


def source_facts_get() -> SourceFacts:
    from procurement.models import Supplier, SupplierFeed

    return SourceFacts(
        suppliers={
            sid: (prio, active)
            for sid, prio, active in Supplier.objects.values_list("id", "priority", "is_active")
        },
        active_feeds=frozenset(SupplierFeed.objects.filter(is_active=True).values_list("id", flat=True)),
    )


def offer_candidates_by_product(
    *, product_ids: Sequence[int], sources: SourceFacts | None = None
) -> dict[int, list[OfferCandidate]]:
    """Every supplier offer of these products with what election needs, in one query.

    Offers on hold (``SupplierItem.hold_reason``) are not candidates: they wait for an operator.

    No joins: supplier and feed facts come from ``sources`` (a few rows read once), which keeps
    this query an index scan over the offers alone.
    """
    sources = sources or source_facts_get()
    rows = (
        SupplierItem.objects.filter(product_id__any_of=product_ids, hold_reason="")
        .order_by()
        .values_list("product_id", "id", "supplier_id", "feed_id", "price", "stock")
    )
    by_product: dict[int, list[OfferCandidate]] = defaultdict(list)
    suppliers, active_feeds = sources.suppliers, sources.active_feeds
    for product_id, item_id, supplier_id, feed_id, price, stock in rows:
        priority, supplier_active = suppliers.get(supplier_id, (0, False))
        by_product[product_id].append(
            OfferCandidate(
                supplier_item_id=item_id,
                supplier_id=supplier_id,
                cost=price,
                stock=stock,
                supplier_priority=priority,
                supplier_active=supplier_active,
                feed_active=feed_id in active_feeds,
            )
        )
    return by_product


def offers_in_stock(*, product: Any) -> QuerySet:
    """A product's sellable offers in stock (not on hold); ``product`` may be an ``OuterRef``."""
    return SupplierItem.objects.filter(product=product, stock__gt=0, hold_reason="")


def supplier_margins_get() -> dict[int, Decimal | None]:
    """Every supplier's margin (suppliers are few; read once per recompute)."""
    from procurement.models import Supplier

    return dict(Supplier.objects.values_list("id", "margin"))


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


def product_election_explain(*, product: Product) -> list[OfferExplanation]:
    """Every offer of a product with why it won or lost and the price it would be sold at."""
    from catalog.conf import default_margin, price_rounding
    from catalog.policies.election import offer_election_explain
    from catalog.policies.pricing import margin_resolve, price_compute

    candidates = offer_candidates_by_product(product_ids=[product.pk]).get(product.pk, [])
    items = {
        item.pk: item
        for item in SupplierItem.objects.filter(product=product).select_related("supplier", "feed")
    }
    category_margin = category_facts_get().margins.get(product.category_id)
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
        price = (
            price_compute(cost=candidate.cost, margin=margin, rounding=rounding)
            if candidate.cost > 0
            else None
        )
        explained.append(OfferExplanation(item, won, verdict, margin, price))
    return explained
