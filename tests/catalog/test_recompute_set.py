"""The set-based recompute elects, prices, holds and queues exactly what the Python policy does.

Property-style: random catalogs (offers, prices, stock, supplier priorities, currencies with and
without a rate, VAT-inclusive feeds, shipping rules with and without weight tables, EOL
products, offers on hold, pending and approved prices, category margins and guard limits), a
first recompute, random changes, then the same second recompute twice from the same state:
once with the reference (``recompute_chunk_lock`` + ``recompute_chunk_apply``, the Python policy)
and once with the set path (``recompute_set_apply``, SQL where the database can). Everything
they write must be equal. On SQLite the set path stages the products and lets the policy decide.
"""

import random
from decimal import Decimal

import pytest
from django.db import transaction

from catalog.models import (
    CatalogUpdateStream,
    PriceApproval,
    Product,
    ProductActiveOffer,
    ProductSupplierEvent,
)
from catalog.services.dirty import dirty_products_drain, products_mark_dirty
from catalog.services.offers import (
    Reason,
    active_offers_recompute,
    recompute_chunk_apply,
    recompute_chunk_lock,
    recompute_rules,
)
from tests.factories import (
    CategoryFactory,
    CurrencyRateFactory,
    ProductFactory,
    SupplierFactory,
    SupplierFeedFactory,
    SupplierItemFactory,
)

pytestmark = pytest.mark.django_db(transaction=False)
D = Decimal
SEEDS = range(24)


def money(rnd: random.Random, low: int, high: int, places: int = 4) -> Decimal:
    return D(rnd.randint(low * 10**places, high * 10**places)) / 10**places


def build_catalog(rnd: random.Random) -> list[int]:
    CurrencyRateFactory(currency="CZK", rate=D("0.0399600400"))
    CurrencyRateFactory(currency="USD", rate=D("0.9271"))
    suppliers = [
        SupplierFactory(
            priority=rnd.randint(0, 3),
            is_active=rnd.random() > 0.1,
            margin=rnd.choice([None, D("0.2000"), money(rnd, 0, 1)]),
            shipping_per_item=rnd.choice([D(0), money(rnd, 0, 10, 2)]),
            shipping_per_line=rnd.choice([D(0), D(0), money(rnd, 0, 5, 2)]),
            landed_cost_percent=rnd.choice([D(0), D("0.0200"), money(rnd, 0, 0, 4) + D("0.0137")]),
            free_shipping_above=rnd.choice([None, None, money(rnd, 50, 300, 2)]),
            shipping_weight_table=rnd.choice(
                [[], [], [], [{"up_to_kg": "2", "amount": "4.50"}, {"up_to_kg": "30", "amount": "12"}]]
            ),
        )
        for _ in range(rnd.randint(2, 4))
    ]
    feeds = [
        SupplierFeedFactory(
            supplier=supplier,
            is_active=rnd.random() > 0.1,
            currency=rnd.choice(["", "", "EUR", "CZK", "USD", "GBP"]),  # no GBP rate: not eligible
            prices_include_vat=(vat := rnd.random() < 0.3),
            vat_rate=rnd.choice([D("0.2300"), D("0.2100"), D("0.0600")]) if vat else None,
        )
        for supplier in suppliers
        for _ in range(rnd.randint(1, 2))
    ]
    root = CategoryFactory(margin=rnd.choice([None, D("0.3000")]), min_margin=rnd.choice([None, D("0.0500")]))
    categories = [
        None,
        root,
        CategoryFactory(
            parent=root,
            margin=rnd.choice([None, D("0.1500")]),
            auto_import=(auto := rnd.random() < 0.5),
            id_ps_category=12 if auto else None,
            price_change_limit=rnd.choice([None, D("0.1000"), D("0.6000")]),
        ),
    ]
    products = []
    for n in range(rnd.randint(8, 30)):
        product = ProductFactory(
            category=rnd.choice(categories),
            margin=rnd.choice([None, None, None, money(rnd, 0, 0) + D("0.1250")]),
            is_enabled=rnd.random() > 0.1,
            is_eol=rnd.random() < 0.15,
            id_ecommerce=rnd.choice([None, 1000 + n, 1000 + n]),
            weight=rnd.choice([None, money(rnd, 0, 40, 3)]),
        )
        for _ in range(rnd.choice([0, 1, 1, 2, 3, 4])):
            feed = rnd.choice(feeds)
            SupplierItemFactory(
                product=product,
                feed=feed,
                price=rnd.choice([D(0), money(rnd, 1, 900), money(rnd, 1, 900, 2), D("99.9900")]),
                stock=rnd.choice([0, 0, 1, 3, 20]),
                hold_reason=rnd.choice(["", "", "", "", "identity_conflict"]),
            )
        products.append(product.pk)
    return products


def perturb(rnd: random.Random, product_ids: list[int]) -> None:
    """Changes between two recomputes: prices, stock, holds, approvals, flags, a shop price."""
    from procurement.models import SupplierItem

    for item in SupplierItem.objects.filter(product_id__in=product_ids).order_by("id"):
        roll = rnd.random()
        if roll < 0.25:
            item.price = item.price * rnd.choice([D("0.5"), D("0.97"), D("1.03"), D("2")])
        elif roll < 0.4:
            item.stock = rnd.choice([0, 2, 9])
        elif roll < 0.45:
            item.hold_reason = "" if item.hold_reason else "price_outlier"
        item.save()
    for approval in PriceApproval.objects.filter(status="pending").order_by("id"):
        if rnd.random() < 0.5:
            approval.status = "approved"
            approval.save()
    for product in Product.objects.filter(id__in=product_ids).order_by("id"):
        if rnd.random() < 0.1:
            product.is_eol = not product.is_eol
            product.save()
        elif rnd.random() < 0.05:
            product.shop_price = money(rnd, 1, 500, 2)
            product.save()


def snapshot(result) -> dict:
    return {
        "result": (
            sorted(result.changed_product_ids), result.offers_created, result.offers_updated,
            result.offers_removed, result.stream_rows, result.prices_held, result.products,
        ),
        "offers": sorted(
            ProductActiveOffer.objects.values_list(
                "product_id", "supplier_id", "supplier_item_id", "unit_cost", "margin_applied",
                "unit_price_sent", "stock_sent",
            )
        ),
        "products": sorted(Product.objects.values_list("id", "is_eol", "shop_price")),
        "approvals": sorted(
            repr((*row[:-1], row[-1] is not None))  # applied or not (the clocks of the runs differ)
            for row in PriceApproval.objects.values_list(
                "product_id", "status", "supplier_item_id", "old_price", "new_price", "unit_cost",
                "margin_applied", "run_id", "applied_at",
            )
        ),
        "approval_reasons": sorted(
            repr(row) for row in PriceApproval.objects.values_list("product_id", "reasons")
        ),
        "stream": sorted(
            (row.product_id, row.status, repr(row.payload), tuple(row.reasons), row.priority)
            for row in CatalogUpdateStream.objects.all()
        ),
        "events": sorted(ProductSupplierEvent.objects.values_list("product_id", "reason", "run_id", "note")),
    }  # fmt: skip


def reference_recompute(product_ids, *, force_stream=False):
    rules = recompute_rules(None)
    with transaction.atomic():
        products, previous = recompute_chunk_lock(product_ids)
        return recompute_chunk_apply(
            products=products, previous=previous, reasons=lambda _: [Reason.INGEST], rules=rules,
            force_stream=force_stream,
        )  # fmt: skip


def reference_drain(*, run_id):
    """The drain as the Python reference: revert EOL with stock, recompute, clear the marks."""
    from catalog.models import DirtyProduct
    from catalog.services.events import EventRow, product_events_insert

    rules = recompute_rules(None)
    with transaction.atomic():
        ids = list(DirtyProduct.objects.order_by("product_id").values_list("product_id", flat=True))
        products, previous = recompute_chunk_lock(ids)
        in_stock = set(
            Product.objects.filter(offers__stock__gt=0, offers__hold_reason="").values_list("id", flat=True)
        )
        reverted = [pid for pid, row in products.items() if row["is_eol"] and pid in in_stock]
        Product.objects.filter(id__in=reverted).update(is_eol=False, updated_at=rules.now)
        product_events_insert(
            events=[
                EventRow(pid, ProductSupplierEvent.Reason.EOL_REVERTED, rules.now, run_id=run_id,
                         note="offer back in stock")
                for pid in reverted
            ]
        )  # fmt: skip
        for pid in reverted:
            products[pid]["is_eol"] = False
        result = recompute_chunk_apply(
            products=products, previous=previous, rules=rules,
            reasons=lambda pid: [Reason.EOL_REVERTED] if pid in reverted else [Reason.INGEST],
            run_of=dict.fromkeys(ids, run_id),
        )  # fmt: skip
        DirtyProduct.objects.all().delete()
        return result


def both_ways(reference, set_based) -> tuple[dict, dict]:
    """Run each from the same state, rolled back after its snapshot."""
    snapshots = []
    for run in (reference, set_based):
        with transaction.atomic():
            snapshots.append(snapshot(run()))
            transaction.set_rollback(True)
    return snapshots[0], snapshots[1]


@pytest.fixture
def random_catalog(settings, request, monkeypatch):
    """A random catalog after a first recompute and random changes. On PostgreSQL, even seeds read
    the big tables product by product and odd ones join them (``_SET_READS``): each way is
    compared with the policy on twelve catalogs."""
    from catalog.sql import postgresql

    reads = ("probed", "joined")[request.param % 2]
    monkeypatch.setattr(postgresql, "_set_reads", lambda *, staged, catalog: reads)
    settings.GENESYS_PRICE_ROUNDING_STEP = random.Random(request.param).choice([D("0.01"), D("0.05"), D("1")])
    settings.GENESYS_PRICE_ROUNDING_MODE = random.Random(request.param).choice(["half_up", "up", "down"])
    rnd = random.Random(request.param)
    ids = build_catalog(rnd)
    active_offers_recompute(product_ids=ids, reason=Reason.INGEST)  # a first state: offers, holds
    perturb(rnd, ids)
    return rnd, ids


@pytest.mark.parametrize("random_catalog", SEEDS, indirect=True)
def test_the_set_recompute_does_what_the_python_policy_does(random_catalog):
    _, ids = random_catalog
    reference, set_based = both_ways(
        lambda: reference_recompute(ids),
        lambda: active_offers_recompute(product_ids=ids, reason=Reason.INGEST),
    )
    assert set_based == reference


@pytest.mark.parametrize("random_catalog", SEEDS[:8], indirect=True)
def test_a_forced_resync_queues_the_same_rows_both_ways(random_catalog):
    _, ids = random_catalog
    reference, set_based = both_ways(
        lambda: reference_recompute(ids, force_stream=True),
        lambda: active_offers_recompute(product_ids=ids, reason=Reason.INGEST, force_stream=True),
    )
    assert set_based == reference


@pytest.mark.parametrize("random_catalog", SEEDS, indirect=True)
def test_the_drain_does_what_the_python_policy_does(random_catalog):
    rnd, ids = random_catalog
    from tests.factories import FeedRunFactory

    run = FeedRunFactory()
    products_mark_dirty(product_ids=[pid for pid in ids if rnd.random() < 0.8], run_id=run.pk)
    reference, set_based = both_ways(lambda: reference_drain(run_id=run.pk), dirty_products_drain)
    assert set_based == reference


@pytest.mark.parametrize("seed", range(6))
def test_ties_fall_and_markets_are_taken_as_the_policy_does(seed, monkeypatch):
    """Offers that tie on cost, on stock and on their supplier's priority, and products with one
    to six offers (the SQL ranks in reverse and sorts the others' costs only where their median
    needs it): the set recompute elects, prices and holds exactly as the policy."""
    from catalog.sql import postgresql

    monkeypatch.setattr(postgresql, "_set_reads", lambda *, staged, catalog: ("probed", "joined")[seed % 2])
    rnd = random.Random(seed)
    feeds = [SupplierFeedFactory(supplier=SupplierFactory(priority=rnd.choice([1, 2]))) for _ in range(7)]
    prices = [D("10.00"), D("10.00"), D("12.00"), D("30.00"), D("80.00")]
    ids = []
    for n in range(60):
        product = ProductFactory(id_ecommerce=None if n % 3 else 900 + n)
        for feed in rnd.sample(feeds, rnd.randint(1, 6)):
            SupplierItemFactory(
                feed=feed, product=product, price=rnd.choice(prices), stock=rnd.choice([0, 0, 3, 5])
            )
        ids.append(product.pk)
    active_offers_recompute(product_ids=ids[::2], reason=Reason.INGEST)  # some with a last price
    reference, set_based = both_ways(
        lambda: reference_recompute(ids),
        lambda: active_offers_recompute(product_ids=ids, reason=Reason.INGEST),
    )
    assert set_based == reference
    assert reference["offers"]  # something was elected


def test_a_set_of_a_quarter_of_the_catalog_or_more_is_joined_and_a_smaller_one_probed():
    from catalog.sql.postgresql import _set_reads

    assert _set_reads(staged=25_000, catalog=100_000) == "joined"
    assert _set_reads(staged=100_000, catalog=100_000) == "joined"
    assert _set_reads(staged=5_000, catalog=100_000) == "probed"
    assert _set_reads(staged=5_000, catalog=-1) == "probed"  # never analysed: nothing known
    assert _set_reads(staged=5_000, catalog=0) == "probed"


@pytest.mark.postgres_only
def test_sql_settles_the_products_the_shop_does_not_know_and_hands_the_rest_to_the_policy():
    """A first recompute of new products writes their offers and prices in SQL alone; a product
    the shop knows comes back as a row for the guard and the stream."""
    from django.db import connection

    from catalog.services.offers import recompute_facts, recompute_set_stage
    from catalog.sql import dialect

    unknown = [ProductFactory(id_ecommerce=None) for _ in range(3)]
    known = ProductFactory(id_ecommerce=501)
    for product in [*unknown, known]:
        SupplierItemFactory(product=product, price=D("10.0000"), stock=4)
    rules = recompute_rules(None)
    with transaction.atomic():
        recompute_set_stage(product_ids=[p.pk for p in [*unknown, known]])
        cursor = connection.chunked_cursor()
        settled, batches = dialect().recompute_set_elect(
            cursor, facts=recompute_facts(rules), now=rules.now, staged=4
        )
        rows = [row for batch in batches for row in batch]
        cursor.close()
        assert (settled.offers_created, settled.offers_updated, settled.offers_removed) == (3, 0, 0)
        assert settled.changed_product_ids == sorted(p.pk for p in unknown)
        assert [row[0] for row in rows] == [known.pk]
        assert ProductActiveOffer.objects.filter(product__in=unknown).count() == 3
        assert not ProductActiveOffer.objects.filter(product=known).exists()
        assert all(p.shop_price for p in Product.objects.filter(pk__in=[p.pk for p in unknown]))
