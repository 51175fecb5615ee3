"""Database helpers: asynchronous commit is scoped to one transaction; writes retried through blips."""

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from genesys.db import commit_without_waiting_for_disk, db_retry, jit_off


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_asynchronous_commit_lasts_one_transaction():
    with transaction.atomic():
        commit_without_waiting_for_disk()
        assert synchronous_commit() == "off"
    assert synchronous_commit() == "on"


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_chunk_statements_are_never_jit_compiled_for_one_transaction():
    """Both chunk loops (the ingest's staging, the recompute's set) switch JIT off as they begin."""
    from catalog import sql as catalog_sql
    from procurement import sql as procurement_sql

    before = setting("jit")  # "on" unless the server's configuration says otherwise
    with transaction.atomic(), connection.cursor() as cursor:
        jit_off(cursor)
        assert setting("jit") == "off"
    assert setting("jit") == before
    with transaction.atomic(), connection.cursor() as cursor:
        procurement_sql.chunk_stage(cursor=cursor, rows=[])
        assert setting("jit") == "off"
    with transaction.atomic(), connection.cursor() as cursor:
        catalog_sql.dialect().recompute_set_reset(cursor)
        assert setting("jit") == "off"
    assert setting("jit") == before


@pytest.mark.django_db
def test_asynchronous_commit_is_a_no_op_on_sqlite():
    with transaction.atomic():
        commit_without_waiting_for_disk()  # nothing to set, nothing to fail


def test_db_retry_retries_connection_errors_until_the_write_lands(transactional_db):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return "landed"

    assert db_retry(flaky, what="a test write", seconds=30) == "landed"
    assert len(calls) == 3


def test_db_retry_gives_up_after_its_bound_and_never_retries_other_errors(transactional_db):
    def down():
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        db_retry(down, what="a test write", seconds=0)
    calls = []

    def broken():
        calls.append(1)
        raise IntegrityError("duplicate key")

    with pytest.raises(IntegrityError):
        db_retry(broken, what="a test write", seconds=30)
    assert len(calls) == 1


AWKWARD_VALUES = ["plain", "", 'with "quotes"', "back\\slash", "a,b", "{braces}", "NULL", " spaced ", "ção €"]


@pytest.mark.django_db
def test_any_of_matches_every_value_exactly_whatever_its_characters():
    from procurement.models import SupplierItem
    from tests.factories import SupplierFeedFactory, SupplierItemFactory

    feed = SupplierFeedFactory()
    for sku in AWKWARD_VALUES:
        SupplierItemFactory(feed=feed, supplier=feed.supplier, sku=sku)
    found = SupplierItem.objects.filter(sku__any_of=AWKWARD_VALUES).values_list("sku", flat=True)
    assert sorted(found) == sorted(AWKWARD_VALUES)
    assert not SupplierItem.objects.filter(sku__any_of=["null", "back\\\\slash", "a"]).exists()


@pytest.mark.django_db
def test_plain_values_reach_the_lookup_as_they_are_and_match_what_a_list_matches():
    """Django walks a list's items one by one in case one is an expression; wrapped, the values
    reach the lookup untouched, and a query compiled twice (a count, then the rows) sees them all."""
    from genesys.db import PlainValues
    from procurement.models import SupplierItem
    from tests.factories import SupplierFeedFactory, SupplierItemFactory

    feed = SupplierFeedFactory()
    for sku in AWKWARD_VALUES:
        SupplierItemFactory(feed=feed, supplier=feed.supplier, sku=sku)
    wrapped = PlainValues(sku for sku in AWKWARD_VALUES[:5])  # a generator, kept as a list
    query = SupplierItem.objects.filter(sku__any_of=wrapped)
    assert query.query.where.children[0].rhs is wrapped
    assert query.count() == 5
    assert sorted(query.values_list("sku", flat=True)) == sorted(
        SupplierItem.objects.filter(sku__any_of=AWKWARD_VALUES[:5]).values_list("sku", flat=True)
    )
    ids = list(SupplierItem.objects.values_list("id", flat=True))
    assert SupplierItem.objects.filter(id__any_of=PlainValues(set(ids))).count() == len(ids)
    assert not SupplierItem.objects.filter(id__any_of=PlainValues([])).exists()


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_pg_array_literal_round_trips_text_numbers_and_nulls():
    from genesys.db import pg_array_literal

    with connection.cursor() as cursor:
        cursor.execute("SELECT unnest(%s::text[])", [pg_array_literal([*AWKWARD_VALUES, None])])
        assert [row[0] for row in cursor.fetchall()] == [*AWKWARD_VALUES, None]
        cursor.execute("SELECT unnest(%s::bigint[])", [pg_array_literal([1, -2, 3_000_000_000])])
        assert [row[0] for row in cursor.fetchall()] == [1, -2, 3_000_000_000]


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_any_of_probes_an_indexed_column_even_where_the_planner_would_rather_scan():
    """5,000 ids of a table that has grown to 60,000 rows since it was analysed (a first ingest):
    with the count in sight the planner picks a scan of the whole table, for each chunk."""
    from procurement.models import SupplierItem
    from tests.factories import ProductFactory, SupplierFeedFactory

    feed, product = SupplierFeedFactory(), ProductFactory()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SupplierItem._meta.db_table}")
        cursor.execute(
            f"INSERT INTO {SupplierItem._meta.db_table} (feed_id, supplier_id, product_id, sku, "  # noqa: S608
            "gtin_raw, partnumber_raw, name_raw, brand_raw, price, stock, row_hash, raw_hash, "
            "hold_reason, created_at, updated_at) SELECT %s, %s, %s, 'S' || n, '', '', '', '', 1, 1, "
            "'', '', '', now(), now() FROM generate_series(1, 60000) AS n",
            [feed.pk, feed.supplier_id, product.pk],
        )
    ids = list(SupplierItem.objects.order_by("id").values_list("id", flat=True)[:60000:12])
    plan = SupplierItem.objects.filter(id__any_of=ids).explain()
    assert "Seq Scan" not in plan and "Index" in plan, plan[:300]
    assert SupplierItem.objects.filter(id__any_of=ids).count() == len(ids) == 5000
    # A column no index leads keeps the constant array, which a filter hashes.
    assert "ARRAY(SELECT" not in str(SupplierItem.objects.filter(name_raw__any_of=["a"]).query)
