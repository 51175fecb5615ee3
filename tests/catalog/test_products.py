"""The ingest's product merge (``products_merge_staged``) decides what the identity policy does.

On PostgreSQL, staged proposals are matched, created and filled in SQL; the Python policy
(``products_resolve``) is the reference. Property-style: random stored catalogs (products with a
GTIN, with a brand + part number, with both, split variants, empty and filled fields) and random
chunks of proposals (repeated GTINs and part numbers, rows without GTIN after and before new
rows with one), merged both ways from the same state: every row's product and every product's
fields must be equal. A chunk that would fill a GTIN onto a product without one is left to the
policy (the one case where the policy reads what its own earlier rows changed).
"""

import random
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Brand, Product
from catalog.services.products import products_merge_staged
from catalog.sql import dialect
from catalog.sql.tables import PROPOSAL_COLUMNS, PROPOSAL_KEY_COLUMNS, PROPOSAL_WORK_COLUMNS
from tests.factories import BrandFactory, CategoryFactory, ProductFactory, make_gtin
from tests.support.races import race

pytestmark = pytest.mark.django_db
STAGE = "test_product_stage"
SEEDS = range(60)
_FIELDS = (
    "gtin",
    "brand_id",
    "partnumber",
    "partnumber_normalized",
    "variant",
    "name",
    "description",
    "image_url",
    "weight",
    "category_id",
)


def stage(rows):
    """A staging table holding these proposals, in order (PROPOSAL_COLUMNS tuples)."""
    columns = (*PROPOSAL_KEY_COLUMNS, *PROPOSAL_COLUMNS, *PROPOSAL_WORK_COLUMNS)
    names = ", ".join(name for name, _ in (*PROPOSAL_KEY_COLUMNS, *PROPOSAL_COLUMNS))
    marks = ", ".join(["%s"] * (len(PROPOSAL_COLUMNS) + 2))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMP TABLE {STAGE} ({', '.join(f'{n} {t}' for n, t in columns)})")
        cursor.executemany(
            f"INSERT INTO {STAGE} ({names}) VALUES ({marks})",  # noqa: S608
            [(pos, None, *row) for pos, row in enumerate(rows)],
        )


def staged_products():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pos, product_id FROM {STAGE} ORDER BY pos")  # noqa: S608
        return dict(cursor.fetchall())


def proposal(
    gtin=None,
    brand=None,
    partnumber="",
    variant="",
    name="",
    description="",
    image="",
    weight=None,
    category=None,
):
    pn = partnumber.replace("-", "").upper()
    return (gtin, brand, partnumber, pn, variant, name, description, image, weight, category)


def merge(rows, *, in_sql=True):
    """Stage and merge ``rows``; returns (counts, row -> product key, products by key)."""
    before = set(Product.objects.values_list("id", flat=True))
    stage(rows)
    merged = products_merge_staged(stage=STAGE, now=timezone.now(), in_sql=in_sql)
    products = {p["id"]: p for p in Product.objects.values("id", *_FIELDS)}

    def key(product_id):
        if product_id in before:
            return ("stored", product_id)
        p = products[product_id]
        return ("new", p["gtin"], p["brand_id"], p["partnumber_normalized"], p["variant"])

    of_row = {pos: key(pid) for pos, pid in staged_products().items()}
    fields = {key(pid): {f: p[f] for f in _FIELDS} for pid, p in products.items()}
    return (merged.created, merged.updated), of_row, fields


def both_ways(rows):
    """The merge in SQL and by the policy, from the same state; None if SQL left it to the policy."""
    with transaction.atomic():
        point = transaction.savepoint()
        in_sql = merge(rows)
        transaction.savepoint_rollback(point)
        reference = merge(rows, in_sql=False)
    return in_sql, reference


# -- what the merge decides ------------------------------------------------------------------


@pytest.mark.postgres_only
def test_rows_of_a_first_ingest_share_the_products_they_would_create():
    brand = BrandFactory()
    g1 = make_gtin(1)
    rows = [
        proposal(g1, brand.pk, "PN-1", name="First"),
        proposal(None, brand.pk, "PN-1", name="Joins the GTIN product"),
        proposal(g1, None, "", name="Same GTIN"),
        proposal(None, brand.pk, "PN-2", name="Own product"),
        proposal(None, brand.pk, "PN-2", name="Shares it"),
    ]
    (created, updated), of_row, fields = merge(rows)
    assert (created, updated) == (2, 0)
    new_gtin = ("new", g1, brand.pk, "PN1", "")
    assert of_row == {
        0: new_gtin,
        1: new_gtin,
        2: new_gtin,
        3: ("new", None, brand.pk, "PN2", ""),
        4: of_row[3],
    }
    assert fields[new_gtin]["name"] == "First"


@pytest.mark.postgres_only
def test_a_new_row_s_staged_copy_is_rewritten_once_with_its_key_and_its_product():
    """The insert returns the products it makes and the same statement writes each new row's
    key and product: a staged row (the widest of the chunk) is rewritten once, not twice."""
    brand = BrandFactory()
    rows = [proposal(make_gtin(n), brand.pk, f"PN-{n}", description="x" * 500) for n in range(40)]
    rows += [proposal(None, brand.pk, f"PN-{n}") for n in range(40, 60)]
    with transaction.atomic():
        stage(rows)
        merged = products_merge_staged(stage=STAGE, now=timezone.now())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_get_xact_tuples_updated(%s::regclass)", [STAGE])
            (rewritten,) = cursor.fetchone()
        assert merged.created == 60
        assert rewritten == 60
        assert set(staged_products().values()) == set(Product.objects.values_list("id", flat=True))


@pytest.mark.postgres_only
def test_a_stored_product_gets_its_empty_fields_from_the_first_row_that_has_them():
    category = CategoryFactory()
    stored = ProductFactory(gtin=make_gtin(5), name="Kept", description="", image_url="", weight=None)
    rows = [
        proposal(stored.gtin, name="Not this", description=""),
        proposal(stored.gtin, description="From the second row", weight=Decimal("1.250")),
        proposal(
            stored.gtin, description="Too late", image="https://img.example/p.jpg", category=category.pk
        ),
    ]
    (created, updated), of_row, _fields = merge(rows)
    assert (created, updated) == (0, 1)
    assert set(of_row.values()) == {("stored", stored.pk)}
    stored.refresh_from_db()
    assert (stored.name, stored.description, stored.weight) == (
        "Kept",
        "From the second row",
        Decimal("1.250"),
    )
    assert (stored.image_url, stored.category_id) == ("https://img.example/p.jpg", category.pk)


@pytest.mark.postgres_only
def test_a_chunk_that_fills_a_gtin_is_decided_by_the_policy():
    """The policy's rule 3 then stops matching the product for the chunk's later rows."""
    brand = BrandFactory()
    stored = ProductFactory(gtin=None, brand=brand, partnumber="PN-7", name="Without GTIN")
    rows = [proposal(make_gtin(7), brand.pk, "PN-7"), proposal(make_gtin(8), brand.pk, "PN-7")]
    in_sql, reference = both_ways(rows)
    assert in_sql == reference
    (created, updated), of_row, _fields = reference
    assert of_row[0] == ("stored", stored.pk) and of_row[1] == ("new", make_gtin(8), brand.pk, "PN7", "")
    assert (created, updated) == (1, 1)


@pytest.mark.postgres_only
def test_a_split_variant_is_only_its_own_product():
    brand = BrandFactory()
    plain = ProductFactory(gtin=None, brand=brand, partnumber="PN-3")
    split = ProductFactory(gtin=None, brand=brand, partnumber="PN-3", variant="4:SKU-1")
    rows = [
        proposal(None, brand.pk, "PN-3", variant="4:SKU-1"),
        proposal(None, brand.pk, "PN-3", variant="4:SKU-2"),
        proposal(None, brand.pk, "PN-3"),
    ]
    (created, _updated), of_row, _fields = merge(rows)
    assert of_row == {
        0: ("stored", split.pk),
        1: ("new", None, brand.pk, "PN3", "4:SKU-2"),
        2: ("stored", plain.pk),
    }
    assert created == 1


@pytest.mark.postgres_only
@pytest.mark.parametrize("analysed", ["empty", "filled"])
def test_the_product_lookups_probe_their_indexes_whatever_the_statistics(analysed):
    """Whether the planner believes the catalog empty or knows it well, each staged row probes
    the product indexes: a hash join would read every product of the catalog for each chunk."""
    from catalog.sql.postgresql import _BPN_PROBE, _PRODUCTS_MATCH, PRODUCT

    brand = BrandFactory()
    if analysed == "empty":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {PRODUCT}")  # the planner believes the catalog is empty
    Product.objects.bulk_create(
        Product(gtin=make_gtin(n), brand=brand, partnumber=f"PN-{n}", partnumber_normalized=f"PN{n}")
        for n in range(3000)
    )
    if analysed == "filled":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {PRODUCT}")  # 3,000 products with a GTIN each, and it knows
    stage([proposal(make_gtin(n), brand.pk, f"PN-{n}") for n in range(500)])
    names = {"stage": STAGE, "product": PRODUCT}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + _PRODUCTS_MATCH.format(bpn_probe=_BPN_PROBE.format(**names), **names))
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert f"Seq Scan on {PRODUCT}" not in plan, plan
    assert "product_unique_gtin" in plan and "product_brand_pn_idx" in plan, plan


# -- the same as the policy, on random catalogs ----------------------------------------------


def random_catalog(rnd, brands, categories):
    """Stored products satisfying the catalog's constraints, with some fields empty."""
    for n in range(rnd.randint(0, 14)):
        gtin = make_gtin(rnd.randint(0, 9)) if rnd.random() < 0.6 else None
        brand = rnd.choice([None, *brands]) if gtin else rnd.choice(brands)
        partnumber = (
            rnd.choice(["", "PN-1", "PN-2", "PN-3"]) if gtin else rnd.choice(["PN-1", "PN-2", "PN-3"])
        )
        variant = f"9:V{n}" if not gtin and rnd.random() < 0.15 else ""
        if gtin and Product.objects.filter(gtin=gtin).exists():
            continue
        if (
            not gtin
            and Product.objects.filter(
                gtin=None, brand_id=brand, partnumber_normalized=partnumber.replace("-", ""), variant=variant
            ).exists()
        ):
            continue
        ProductFactory(
            gtin=gtin,
            brand=Brand.objects.get(pk=brand) if brand else None,
            partnumber=partnumber,
            variant=variant,
            name=rnd.choice(["", f"Stored {n}"]),
            description=rnd.choice(["", "stored text"]),
            image_url=rnd.choice(["", "https://img.example/stored.jpg"]),
            weight=rnd.choice([None, Decimal("2.000")]),
            category_id=rnd.choice([None, *categories]),
        )


def random_chunk(rnd, brands, categories):
    rows = []
    for n in range(rnd.randint(1, 12)):
        gtin = make_gtin(rnd.randint(0, 11)) if rnd.random() < 0.6 else None
        brand = rnd.choice([None, *brands]) if gtin else rnd.choice(brands)
        partnumber = (
            rnd.choice(["", "PN-1", "PN-2", "PN-3"]) if gtin else rnd.choice(["PN-1", "PN-2", "PN-3"])
        )
        variant = ""
        if not gtin and rnd.random() < 0.1:
            variant = f"9:V{rnd.randint(0, 14)}"
        rows.append(
            proposal(
                gtin,
                brand,
                partnumber,
                variant=variant,
                name=rnd.choice(["", f"Row {n}"]),
                description=rnd.choice(["", f"text {n}"]),
                image=rnd.choice(["", f"https://img.example/{n}.jpg"]),
                weight=rnd.choice([None, Decimal(f"{n}.500")]),
                category=rnd.choice([None, *categories]),
            )
        )
    return rows


def sql_decides(rows):
    """Whether the SQL decides this chunk itself (else it leaves it to the policy)."""
    with transaction.atomic():
        point = transaction.savepoint()
        stage(rows)
        with connection.cursor() as cursor:
            decided = dialect().products_merge(cursor, stage=STAGE, now=timezone.now()) is not None
        transaction.savepoint_rollback(point)
    return decided


@pytest.mark.postgres_only
def test_the_sql_merge_decides_what_the_policy_decides_on_random_catalogs():
    decided_in_sql = left_to_policy = 0
    for seed in SEEDS:
        rnd = random.Random(seed)
        with transaction.atomic():
            point = transaction.savepoint()
            brands = [BrandFactory().pk for _ in range(2)]
            categories = [CategoryFactory().pk for _ in range(2)]
            random_catalog(rnd, brands, categories)
            rows = random_chunk(rnd, brands, categories)
            if sql_decides(rows):
                decided_in_sql += 1
            else:
                left_to_policy += 1
            in_sql, reference = both_ways(rows)
            assert in_sql == reference, f"seed {seed}: {rows}"
            transaction.savepoint_rollback(point)
    assert decided_in_sql > len(SEEDS) * 2 // 3 and left_to_policy > 0, (decided_in_sql, left_to_policy)


def test_sqlite_and_the_reference_path_resolve_through_the_policy():
    """Every database merges staged proposals; SQLite (and ``in_sql=False``) through the policy."""
    brand = BrandFactory()
    stored = ProductFactory(gtin=make_gtin(3), name="")
    rows = [
        proposal(make_gtin(3), name="Filled"),
        proposal(None, brand.pk, "PN-9"),
        proposal(None, brand.pk, "PN-9"),
    ]
    (created, updated), of_row, fields = merge(rows, in_sql=False)
    assert (created, updated) == (1, 1)
    assert of_row[0] == ("stored", stored.pk) and of_row[1] == of_row[2] == ("new", None, brand.pk, "PN9", "")
    assert fields[("stored", stored.pk)]["name"] == "Filled"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_merges_creating_the_same_products_at_once_share_them():
    """The second insert waits for the first's unique index entries, inserts nothing and reads
    the products back: one product per identity, both chunks' rows on it."""
    brand = BrandFactory()
    rows = [proposal(make_gtin(42), brand.pk, "PN-42"), proposal(None, brand.pk, "PN-43")]

    def merge_staged(name):
        stage(rows)
        return products_merge_staged(stage=STAGE, now=timezone.now()), staged_products()

    results = race(merge_staged)
    products = {
        0: Product.objects.get(gtin=make_gtin(42)).pk,
        1: Product.objects.get(gtin=None, brand=brand, partnumber_normalized="PN43").pk,
    }
    assert Product.objects.count() == 2
    assert results["first"][1] == results["second"][1] == products
    assert results["first"][0].created == 2 and results["second"][0].created == 0
