"""The ingest's staged merge (procurement.sql), one SQL text per database, one result.

Each test writes chunks through the real writer on whichever database the suite runs on; the
expected states are literals, so a PostgreSQL run and a SQLite run that pass agree row for row.
"""

import re
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.gtin import gtin_check_digit
from catalog.models import DirtyProduct, Product, ProductActiveOffer, ProductMeta, ProductSupplierEvent
from catalog.policies.identity import ProductProposal
from catalog.services.dirty import dirty_products_drain
from catalog.services.products import products_resolve
from genesys.db import db_dialect
from procurement import sql
from procurement.feeds.mapping import MappedRow
from procurement.models import SupplierItem
from procurement.services.ingest_writer import IngestWriter
from tests.factories import BrandFactory, FeedRunFactory, SupplierFeedFactory
from tests.support.races import race

D = Decimal


def _gtin14(n: int) -> str:
    body = f"0560{n:09d}"
    return f"{body}{gtin_check_digit(body)}"


def row(sku, price, stock, *, gtin=None, brand="Bosch", pn="", name="", meta=None, line=1):
    return MappedRow(
        line=line,
        sku=sku,
        price=D(price),
        stock=stock,
        gtin=gtin,
        gtin_raw=gtin or "",
        partnumber=pn,
        brand=brand,
        name=name or f"Product {sku}",
        description="",
        image_url="",
        weight=None,
        category=("Tools",),
        meta=meta or {},
        warnings=(),
        row_hash=f"{sku}:{price}:{stock}:{gtin}:{pn}:{sorted((meta or {}).items())}",
    )


def chunk(writer, *rows):
    with transaction.atomic():
        return writer.write(list(rows))


def snapshot(feed):
    """The merge's whole result, by names rather than ids (ids differ between databases)."""
    key = {p.pk: p.gtin or f"{p.partnumber_normalized}" for p in Product.objects.all()}
    items = {i.pk: i.sku for i in SupplierItem.objects.filter(feed=feed)}
    return {
        "offers": sorted(
            (i.sku, key[i.product_id], i.price, i.stock, i.hold_reason)
            for i in SupplierItem.objects.filter(feed=feed)
        ),
        "events": sorted(
            (
                items[e.supplier_item_id],
                key[e.product_id],
                e.reason,
                e.old_price,
                e.new_price,
                e.old_stock,
                e.new_stock,
            )
            for e in ProductSupplierEvent.objects.all()
        ),
        "meta": sorted((key[m.product_id], m.key, m.value) for m in ProductMeta.objects.all()),
        "dirty": sorted((key[d.product_id], d.version) for d in DirtyProduct.objects.all()),
    }


@pytest.mark.django_db
def test_a_feed_sequence_merges_to_the_same_state_on_either_database():
    feed = SupplierFeedFactory()
    g1, g2, g3 = _gtin14(1), _gtin14(2), _gtin14(3)
    first = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    outcome = chunk(
        first,
        row("A", "10", 5, gtin=g1, meta={"warranty": "2"}),
        row("B", "20", 0, gtin=g2, meta={"warranty": "3", "colour": "red"}),
        row("C", "30", 1, pn="X-1", meta={"warranty": "1"}),
        row("D", "31", 2, pn="x1", meta={"warranty": "5"}),  # the same product as C: D's meta wins
    )
    assert (outcome.offers_created, outcome.offers_changed, outcome.events) == (4, 0, 4)
    DirtyProduct.objects.all().delete()  # as the catalog step would
    second = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    outcome = chunk(
        second,
        row("A", "10", 5, gtin=g1, meta={"warranty": "2"}),  # unchanged: only "seen"
        row("B", "25", 4, gtin=g2, meta={"warranty": "3", "colour": "red"}),  # repriced
        row("C", "30", 1, gtin=g3, pn="X-1"),  # a new GTIN: fills the product's empty one
        row("D", "12", 2, gtin=g1, pn="x1"),  # moved to A's product
        row("E", "1", 0, gtin=g2),  # a second offer of B's product, nothing to tell
    )
    assert (outcome.offers_created, outcome.offers_changed, outcome.offers_unchanged) == (1, 3, 1)
    assert snapshot(feed) == {
        "offers": [
            ("A", g1, D("10"), 5, ""),
            ("B", g2, D("25"), 4, "identity_conflict"),  # 25 and 1 for one product: held
            ("C", g3, D("30"), 1, ""),
            ("D", g1, D("12"), 2, ""),
            ("E", g2, D("1"), 0, "identity_conflict"),
        ],
        "events": sorted(
            [
                ("A", g1, "init", None, D("10"), None, 5),
                ("B", g2, "init", None, D("20"), None, 0),
                ("C", g3, "init", None, D("30"), None, 1),
                ("D", g3, "init", None, D("31"), None, 2),
                ("B", g2, "change", D("20"), D("25"), 0, 4),
                ("D", g1, "init", None, D("12"), None, 2),
                ("E", g2, "init", None, D("1"), None, 0),
            ]
        ),
        "meta": [
            (g1, "warranty", "2"),
            (g2, "colour", "red"),
            (g2, "warranty", "3"),
            (g3, "warranty", "5"),  # C's product, D's attribute from the first run
        ],
        # Repriced, moved (both products) and new: one mark each; the conflict's hold marks again.
        "dirty": [(g1, 1), (g2, 2), (g3, 1)],
    }


@pytest.mark.django_db
def test_a_product_at_end_of_life_is_marked_when_an_offer_brings_stock_back():
    feed = SupplierFeedFactory()
    writer = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    chunk(writer, row("A", "10", 0, gtin=_gtin14(7)))
    Product.objects.update(is_eol=True)
    DirtyProduct.objects.all().delete()
    later = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    chunk(later, row("A", "10", 3, gtin=_gtin14(7)))
    assert list(DirtyProduct.objects.values_list("product__gtin", flat=True)) == [_gtin14(7)]


@pytest.mark.django_db
def test_the_dialect_is_the_database_s():
    assert sql.dialect().__name__ == f"procurement.sql.{connection.vendor}"
    assert db_dialect() == connection.vendor


@pytest.mark.django_db
def test_events_and_meta_without_database_checks_are_never_orphaned():
    """Events and attributes carry no database foreign key: Django's deletes keep them whole."""
    feed = SupplierFeedFactory()
    run = FeedRunFactory(feed=feed)
    writer = IngestWriter(feed=feed, run=run, now=timezone.now())
    chunk(
        writer, row("A", "10", 5, gtin=_gtin14(1), meta={"warranty": "2"}), row("B", "5", 1, gtin=_gtin14(2))
    )
    products = set(Product.objects.values_list("id", flat=True))
    assert set(ProductSupplierEvent.objects.values_list("product_id", flat=True)) == products
    assert set(ProductSupplierEvent.objects.values_list("run_id", flat=True)) == {run.pk}
    run.delete()  # runs are pruned: their events stay, without a run
    assert set(ProductSupplierEvent.objects.values_list("run_id", flat=True)) == {None}
    item = SupplierItem.objects.get(sku="B")
    product = item.product
    item.delete()
    assert ProductSupplierEvent.objects.filter(product=product, supplier_item__isnull=True).count() == 1
    product.delete()
    assert not ProductSupplierEvent.objects.filter(product_id=product.pk).exists()
    other = SupplierItem.objects.get(sku="A")
    other.delete()
    other.product.delete()
    assert not ProductMeta.objects.exists() and not ProductSupplierEvent.objects.exists()


@pytest.mark.django_db
def test_offers_and_active_offers_carry_the_supplier_their_checked_keys_imply():
    """An offer's supplier and an active offer's supplier have no database check of their own:
    they are the feed's and the offer's, whose keys are checked; Django still protects them."""
    feed = SupplierFeedFactory()
    writer = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    chunk(writer, row("A", "10", 5, gtin=_gtin14(1)), row("B", "5", 1, gtin=_gtin14(2)))
    dirty_products_drain()
    offers = SupplierItem.objects.all()
    assert {(o.supplier_id, o.feed.supplier_id) for o in offers} == {(feed.supplier_id, feed.supplier_id)}
    active = ProductActiveOffer.objects.select_related("supplier_item")
    assert len(active) == 2 and all(a.supplier_id == a.supplier_item.supplier_id for a in active)
    with pytest.raises(ProtectedError):
        feed.supplier.delete()


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_bulk_path_s_tables_check_only_the_keys_their_writes_do_not_guarantee():
    """docs/architecture.md, "Constraints on the bulk path": each key left here costs a check a
    row at a bulk COMMIT; the others are guaranteed by the statements that write them."""
    tables = ["procurement_supplieritem", "catalog_product", "catalog_productactiveoffer",
              "catalog_dirtyproduct", "catalog_productsupplierevent", "catalog_productmeta"]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        checked = set(cursor.fetchall())
    assert checked == {
        ("procurement_supplieritem", "feed_id"),
        ("procurement_supplieritem", "product_id"),
        ("catalog_product", "brand_id"),
        ("catalog_product", "category_id"),
        ("catalog_productactiveoffer", "product_id"),
        ("catalog_productactiveoffer", "supplier_item_id"),
    }


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_ingests_creating_the_same_product_at_once_share_it():
    """The second insert waits for the first's unique index entry, inserts nothing and reads the
    product back: one product, both rows on it."""
    brand = BrandFactory()
    gtin = _gtin14(42)
    results = race(
        lambda name: products_resolve(
            proposals=[ProductProposal(name, gtin, brand.pk, "PN-42", "pn42", "", {"name": name})]
        )
    )
    assert Product.objects.filter(gtin=gtin).count() == 1
    product_id = Product.objects.get(gtin=gtin).pk
    assert results["first"].product_of == {"first": product_id} and results["first"].created == 1
    assert results["second"].product_of == {"second": product_id} and results["second"].created == 0


def _planner_rows(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def _rows(first, count):
    return [row(f"S{n}", "10", 1, pn=f"PN-{n}") for n in range(first, first + count)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_run_that_grows_the_catalog_keeps_the_planners_row_counts_in_step():
    """Autovacuum follows a table growing from nothing far behind: the run analyses the offers
    and products itself each time it has doubled what the planner knew, and never on a re-run."""
    items, products = SupplierItem._meta.db_table, Product._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {items}, {products}")  # empty: the planner knows of no row
    feed = SupplierFeedFactory()
    writer = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    with CaptureQueriesContext(connection) as captured:
        analysed = [writer.statistics_follow(chunk=chunk(writer, *_rows(n * 1500, 1500))) for n in range(4)]
    # 1,500 rows are fewer than worth it; 3,000 are more than the 0 known; 6,000 double 3,000.
    assert analysed == [[], [items, products], [], [items, products]]
    assert _planner_rows(items) == _planner_rows(products) == 6000
    # Only the columns the chunk statements plan on are sampled: the wide texts cost the most.
    (statement,) = {q["sql"] for q in captured.captured_queries if q["sql"].startswith("ANALYZE")}
    columns = dict(re.findall(r"(\w+) \(([^)]*)\)", statement))
    assert {"feed_id", "sku", "product_id"} <= set(columns[items].split(", "))
    assert {"gtin", "brand_id", "partnumber_normalized"} <= set(columns[products].split(", "))
    assert not {"name_raw", "row_hash"} & set(columns[items].split(", "))
    assert not {"name", "description"} & set(columns[products].split(", "))
    again = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    assert again.statistics_follow(chunk=chunk(again, *_rows(0, 1500))) == []


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_merge_looks_each_staged_offer_up_by_its_key_whatever_the_statistics():
    """With statistics that say the feed has no offer, the merge still probes the (feed, SKU) key
    per staged row: a scan of the feed's offers per chunk made a first ingest quadratic."""
    from procurement.sql.postgresql import _MERGE

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SupplierItem._meta.db_table}")
    feed = SupplierFeedFactory()
    run = FeedRunFactory(feed=feed)
    writer = IngestWriter(feed=feed, run=run, now=timezone.now())
    chunk(writer, *_rows(0, 3000))  # the planner still believes the table is empty
    proposal = (None, None, "", "", "", "", "", "", None, None)
    staged = [(n, f"S{n}", 1, "", "", "", "", D("9"), 1, "h", "", None, *proposal) for n in range(500)]
    with transaction.atomic(), connection.cursor() as cursor:
        sql.chunk_stage(cursor=cursor, rows=staged)
        params = {"feed": feed.pk, "supplier": feed.supplier_id, "run": run.pk, "now": timezone.now()}
        cursor.execute("EXPLAIN " + _MERGE, params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Seq Scan on procurement_supplieritem" not in plan
    assert "Filter: ((sku)::text = ANY" not in plan
    assert "Index Cond: ((feed_id = " in plan and "(sku)::text = s.sku" in plan, plan


def _offer_reads(captured):
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "procurement_supplieritem"."sku"')
    ]


@pytest.mark.django_db
def test_a_feed_s_first_run_reads_only_the_offers_it_may_have_written():
    """A feed without offers when the run began has none to compare a row with, except those
    the run wrote itself: its chunks look only those up (a SKU listed again across chunks is
    still a duplicate whose last line wins)."""
    feed = SupplierFeedFactory()
    run = FeedRunFactory(feed=feed)
    writer = IngestWriter(feed=feed, run=run, now=timezone.now())
    with CaptureQueriesContext(connection) as first:
        chunk(writer, row("A", "10", 1, pn="PN-A"), row("B", "20", 2, pn="PN-B"))
    with CaptureQueriesContext(connection) as new_skus:
        chunk(writer, row("C", "30", 3, pn="PN-C"), row("D", "40", 4, pn="PN-D"))
    with CaptureQueriesContext(connection) as again:
        repeated = chunk(writer, row("A", "11", 1, pn="PN-A"), row("E", "50", 5, pn="PN-E"))
    assert _offer_reads(first) == _offer_reads(new_skus) == []
    assert len(_offer_reads(again)) == 1
    assert repeated.duplicates == 1 and repeated.duplicate_skus == ["A"]
    assert sorted(SupplierItem.objects.filter(feed=feed).values_list("sku", "price")) == [
        ("A", D("11")), ("B", D("20")), ("C", D("30")), ("D", D("40")), ("E", D("50")),
    ]  # fmt: skip
    # A later run starts from offers: every chunk reads them.
    later = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    with CaptureQueriesContext(connection) as rerun:
        unchanged = chunk(later, row("B", "20", 2, pn="PN-B"), row("F", "60", 6, pn="PN-F"))
    assert len(_offer_reads(rerun)) == 1
    assert unchanged.offers_unchanged == 1 and unchanged.offers_created == 1


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_staged_chunk_s_size_is_known_to_the_planner_from_its_narrow_columns():
    """The staging table is analysed as each chunk is copied in (a temp table has no statistics),
    sampling the columns the merge filters and joins on, never the texts."""
    proposal = (None, None, "", "", "", "", "Long description " * 20, "", None, None)
    staged = [(n, f"S{n}", None, "", "", f"Name {n}", "", D("9"), n % 3, "h", "", None, *proposal)
              for n in range(700)]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        sql.chunk_stage(cursor=cursor, rows=staged)
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [sql.STAGE_TABLE])
        (rows,) = cursor.fetchone()
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = %s", [sql.STAGE_TABLE])
        sampled = {name for (name,) in cursor.fetchall()}
    assert rows == 700
    assert {"pos", "product_id", "stock"} <= sampled
    assert not {"sku", "name_raw", "row_hash", "meta", "product_description"} & sampled


def _updates_of(table):
    """This transaction's row updates of ``table`` so far: all of them, and those made in place."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), "
            "pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
            [table, table],
        )
        return cursor.fetchone()


def _full_rows(count):
    """Rows with every column filled and a long name, so that offers and products take their
    real width on a page."""
    return [
        row(f"SKU-{n:06d}", "129.90", 3, gtin=_gtin14(n), pn=f"PN-{n:06d}",
            name=f"Máquina de lavar roupa 8 kg 1400 rpm, classe A, modelo {n:06d}")
        for n in range(count)
    ]  # fmt: skip


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_first_re_run_marks_every_offer_seen_in_place():
    """Every run rewrites every offer (seen): a page must hold a second version of each of its
    rows, or a third of those updates move the row and add an entry to each of its indexes."""
    feed = SupplierFeedFactory()
    rows = _full_rows(3000)
    chunk(IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now()), *rows)
    before = _updates_of(SupplierItem._meta.db_table)
    outcome = chunk(IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now()), *rows)
    updated, in_place = (a - b for a, b in zip(_updates_of(SupplierItem._meta.db_table), before, strict=True))
    assert outcome.offers_unchanged == len(rows)
    assert (updated, in_place) == (len(rows), len(rows))


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_first_ingest_prices_its_new_products_in_place():
    """The recompute after a first ingest writes each new product's first shop price: a product
    page must hold a second version of each of its rows, or most of those updates move the row
    and add an entry to each of the product's indexes."""
    from catalog.services.dirty import dirty_products_drain

    feed = SupplierFeedFactory()
    rows = _full_rows(3000)
    written = chunk(IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now()), *rows)
    assert written.products_created == len(rows)
    before = _updates_of(Product._meta.db_table)
    drained = dirty_products_drain()
    updated, in_place = (a - b for a, b in zip(_updates_of(Product._meta.db_table), before, strict=True))
    assert drained.products == len(rows)
    assert Product.objects.filter(shop_price__isnull=True).count() == 0
    assert (updated, in_place) == (len(rows), len(rows))


def _page_room():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN (%s, %s)",
            [SupplierItem._meta.db_table, Product._meta.db_table],
        )
        return dict(cursor.fetchall())


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_offer_and_product_pages_keep_room_for_updates_in_place():
    assert _page_room() == {
        SupplierItem._meta.db_table: ["fillfactor=50"],
        Product._meta.db_table: ["fillfactor=50"],
    }


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_reversing_the_offer_page_room_gives_back_the_room_it_replaced():
    from django.db.migrations.executor import MigrationExecutor

    previous, current = "0012_supplier_item_room_for_hot_updates", "0013_supplier_item_room_for_every_row"
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        MigrationExecutor(connection).migrate([("procurement", previous)])
        assert _page_room()[SupplierItem._meta.db_table] == ["fillfactor=60"]
        MigrationExecutor(connection).migrate([("procurement", current)])
        assert _page_room()[SupplierItem._meta.db_table] == ["fillfactor=50"]
    finally:  # the tests after this one, on this database, expect the schema as it is now
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_statistics_wait_for_a_locked_table_no_longer_than_a_second_and_come_later():
    """A VACUUM holds the table's lock for as long as it takes: the chunk goes on without it."""
    import psycopg

    items, products = SupplierItem._meta.db_table, Product._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {items}, {products}")
    feed = SupplierFeedFactory()
    writer = IngestWriter(feed=feed, run=FeedRunFactory(feed=feed), now=timezone.now())
    outcome = chunk(writer, *_rows(0, 2500))
    settings_dict = connection.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"] or None, port=settings_dict["PORT"] or None,
        user=settings_dict["USER"], dbname=settings_dict["NAME"],
    ) as other:  # fmt: skip
        other.execute(f"LOCK TABLE {items} IN SHARE UPDATE EXCLUSIVE MODE")  # as VACUUM does
        began = time.monotonic()
        assert writer.statistics_follow(chunk=outcome) == []
        assert time.monotonic() - began < 5
    assert writer.statistics_follow(chunk=chunk(writer, *_rows(2500, 10))) == [items, products]
