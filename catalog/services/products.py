"""Product identity applied to the database, set-based: brands, categories, products.

``products_merge_staged`` is the ingest's path: the proposals are rows of a staging table the
caller copied in (``catalog.sql.tables.PROPOSAL_*``), and on PostgreSQL a few statements match,
create and fill in SQL, writing each row's product id back into the table, so no id travels to
Python. The Python policy is the reference: it decides the chunks the SQL leaves to it (a GTIN
filled onto a product that had none) and every chunk on SQLite; tests compare both on random
catalogs.

``products_resolve`` turns a chunk's proposals (catalog.policies.identity) into product ids with
a fixed number of statements whatever the chunk size: one read of the candidates, one
insert-or-nothing of the new products returning their ids, one re-read of the few a concurrent
ingest created between our read and our insert, one fill-only update. Brands and categories are
found or created the same way, with a cache the caller keeps across chunks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalog import sql
from catalog.models import Brand, Category, Product
from catalog.models.taxonomy import CATEGORY_PATH_SEPARATOR
from catalog.normalize import name_normalize
from catalog.policies.identity import (
    CANDIDATE_FIELDS,
    FILLABLE_FIELDS,
    IDENTITY_FIELDS,
    IdentityPlan,
    ProductProposal,
    identity_resolve,
)
from catalog.sql.tables import PROPOSAL_COLUMNS
from genesys.db import bulk_insert, bulk_update

# The product columns a proposal writes, with their PostgreSQL types, in FILLABLE_FIELDS order.
_FILLABLE_COLUMNS = tuple(
    zip(
        FILLABLE_FIELDS,
        ("text", "bigint", "text", "text", "text", "text", "text", "numeric", "bigint"),
        strict=True,
    )
)
# A proposal that says nothing of a text field creates the product with it empty, not NULL.
_TEXT_DEFAULTS = {
    "partnumber": "",
    "partnumber_normalized": "",
    "name": "",
    "description": "",
    "image_url": "",
}
_TIMESTAMPS = [("created_at", "timestamptz"), ("updated_at", "timestamptz")]


@dataclass(frozen=True, slots=True)
class ProductsMerged:
    created: int  # products inserted
    updated: int  # stored products whose empty fields were filled


@dataclass(frozen=True, slots=True)
class ProductsResolved:
    product_of: dict[str, int]  # proposal key -> product id
    created: int  # products this call inserted
    updated: int  # stored products whose empty fields it filled


def products_resolve(
    *, proposals: Sequence[ProductProposal], now: datetime | None = None
) -> ProductsResolved:
    """Product id of each proposal: match, fill or create (catalog.policies.identity)."""
    now = now or timezone.now()
    plan = identity_resolve(proposals=proposals, candidates=_candidates_load(proposals))
    product_of = dict(plan.product_of)
    created = 0
    if plan.creates:
        ids, created = _products_create(plan, now=now)
        product_of.update((key, ids[identity]) for key, identity in plan.create_key_of.items())
    fills = {pid: changes for pid, changes in plan.fills.items() if changes}
    if fills:
        _products_fill(fills)
    return ProductsResolved(product_of=product_of, created=created, updated=len(fills))


def products_merge_staged(*, stage: str, now: datetime, in_sql: bool = True) -> ProductsMerged:
    """Resolve every proposal staged in ``stage`` to its product (match, fill or create), writing
    the product id into each row; in the caller's transaction. ``in_sql=False`` leaves every
    row to the policy: the reference the SQL is compared with."""
    dialect = sql.dialect()
    with connection.cursor() as cursor:
        merged = dialect.products_merge(cursor, stage=stage, now=now) if in_sql else None
        if merged is not None:
            return ProductsMerged(*merged)
        proposals = _staged_proposals(cursor, stage=stage)
    resolved = products_resolve(proposals=proposals, now=now)
    with connection.cursor() as cursor:
        dialect.products_staged_set(
            cursor, stage=stage, product_of={int(pos): pid for pos, pid in resolved.product_of.items()}
        )
    return ProductsMerged(resolved.created, resolved.updated)


def _staged_proposals(cursor: Any, *, stage: str) -> list[ProductProposal]:
    """The staged rows as the policy's proposals, keyed by their ``pos``, in order."""
    cursor.execute(
        f"SELECT pos, {', '.join(name for name, _ in PROPOSAL_COLUMNS)} FROM {stage} ORDER BY pos"  # noqa: S608
    )
    proposals = []
    for pos, gtin, brand_id, partnumber, pn, variant, name, description, image, weight, category in cursor:
        fill = {
            "name": name,
            "description": description,
            "image_url": image,
            "weight": None if weight is None else Decimal(str(weight)),  # SQLite: a float
            "category_id": category,
        }
        proposals.append(ProductProposal(str(pos), gtin or None, brand_id, partnumber, pn, variant, fill))
    return proposals


def _candidates_load(proposals: Sequence[ProductProposal]) -> list[dict]:
    """The stored products the proposals may be: by GTIN, then by brand + part number for the
    proposals no GTIN matched. Two reads."""
    gtins = list({p.gtin for p in proposals if p.gtin and not p.variant})
    found = (
        list(Product.objects.filter(gtin__any_of=gtins).order_by().values(*CANDIDATE_FIELDS)) if gtins else []
    )
    matched = {c["gtin"] for c in found}
    pairs = {
        (p.brand_id, p.partnumber_normalized)
        for p in proposals
        if p.brand_id is not None and p.partnumber_normalized and (p.variant or p.gtin not in matched)
    }
    if pairs:
        wanted = (
            Product.objects.filter(
                brand_id__any_of=list({b for b, _ in pairs}),
                partnumber_normalized__any_of=list({pn for _, pn in pairs}),
            )
            .order_by("id")
            .values(*CANDIDATE_FIELDS)
        )
        known = {c["id"] for c in found}
        found.extend(
            c for c in wanted if (c["brand_id"], c["partnumber_normalized"]) in pairs and c["id"] not in known
        )
    return found


def _products_create(plan: IdentityPlan, *, now: datetime) -> tuple[dict[tuple, int], int]:
    """Insert the new products, or nothing where one exists; returns (identity key -> id, how
    many this call created). A key the insert skipped was created by a concurrent ingest after
    our read: it is read back (the unique constraints make it exactly one product)."""
    rows = []
    for key, proposal in plan.creates.items():
        values = {**proposal.proposed(), "gtin": proposal.gtin if key[0] == "gtin" else None}
        row = (
            _TEXT_DEFAULTS.get(name) if values.get(name) is None else values[name] for name in FILLABLE_FIELDS
        )
        rows.append((*row, proposal.variant, True, False, now, now))
    with connection.cursor() as cursor:
        written = bulk_insert(
            table=Product._meta.db_table,
            columns=[
                *_FILLABLE_COLUMNS,
                ("variant", "text"),
                ("is_enabled", "boolean"),
                ("is_eol", "boolean"),
                *_TIMESTAMPS,
            ],
            rows=rows,
            cursor=cursor,
            on_conflict="ON CONFLICT DO NOTHING",
            returning="id, gtin, brand_id, partnumber_normalized, variant",
        )
    ids: dict[tuple, int] = {}
    for product_id, gtin, brand_id, pn, variant in written:
        ids[("gtin", gtin) if gtin else ("bpn", brand_id, pn, variant)] = product_id
    lost = [key for key in plan.creates if key not in ids]
    if lost:
        ids.update(_products_reread(lost))
    return ids, len(written)


def _products_reread(keys: list[tuple]) -> dict[tuple, int]:
    """The products a concurrent ingest created under these identity keys, in one read."""
    where = Q(gtin__any_of=[key[1] for key in keys if key[0] == "gtin"])
    for _, brand_id, pn, variant in (key for key in keys if key[0] == "bpn"):
        where |= Q(gtin__isnull=True, brand_id=brand_id, partnumber_normalized=pn, variant=variant)
    ids: dict[tuple, int] = {}
    for product_id, gtin, brand_id, pn, variant in Product.objects.filter(where).values_list(
        "id", "gtin", "brand_id", "partnumber_normalized", "variant"
    ):
        ids[("gtin", gtin) if gtin else ("bpn", brand_id, pn, variant)] = product_id
    return ids


def _products_fill(fills: dict[int, dict[str, object]]) -> None:
    """Fill empty product fields in one statement (the statement itself checks emptiness, so a
    concurrent edit is never overwritten). A GTIN a concurrent ingest gave another product
    meanwhile leaves the identity as it is and fills the rest."""
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                _fill_statement(fills, columns=_FILLABLE_COLUMNS, cursor=cursor)
        except IntegrityError:
            keep = tuple(c for c in _FILLABLE_COLUMNS if c[0] not in IDENTITY_FIELDS)
            _fill_statement(fills, columns=keep, cursor=cursor)


def _fill_statement(
    fills: dict[int, dict[str, object]], *, columns: Sequence[tuple[str, str]], cursor
) -> None:
    bulk_update(
        table=Product._meta.db_table,
        key=("id", "bigint"),
        columns=columns,
        rows=[(pid, *(changes.get(name) for name, _ in columns)) for pid, changes in fills.items()],
        cursor=cursor,
        fill_only={name for name, _ in columns},
    )


# -- brands and categories -------------------------------------------------------------------


def brands_resolve(*, names: Iterable[str], known: dict[str, int], now: datetime) -> dict[str, int]:
    """Normalised brand name -> id, creating the brands nobody has yet; ``known`` is the
    caller's cache (updated in place, returned)."""
    wanted: dict[str, str] = {}
    for name in names:
        key = name_normalize(name)
        if key and key not in known:
            wanted.setdefault(key, name)
    if not wanted:
        return known
    known.update(
        Brand.objects.filter(normalized_name__any_of=list(wanted)).values_list("normalized_name", "id")
    )
    missing = [(display, key, now, now) for key, display in wanted.items() if key not in known]
    if missing:
        with connection.cursor() as cursor:
            bulk_insert(
                table=Brand._meta.db_table,
                columns=[("name", "text"), ("normalized_name", "text"), *_TIMESTAMPS],
                rows=missing,
                cursor=cursor,
                on_conflict="ON CONFLICT DO NOTHING",
            )
        # Read back, including brands a concurrent ingest created first.
        known.update(
            Brand.objects.filter(normalized_name__any_of=[m[1] for m in missing]).values_list(
                "normalized_name", "id"
            )
        )
    return known


@lru_cache(maxsize=16_384)
def category_key(path: tuple[str, ...]) -> tuple[str, ...]:
    """The normalised path (cached: a feed repeats a few hundred paths over all its rows)."""
    return tuple(name_normalize(p) for p in path)


def categories_resolve(
    *, paths: Iterable[tuple[str, ...]], known: dict[tuple[str, ...], int], now: datetime
) -> dict[tuple[str, ...], int]:
    """Normalised path -> id, creating missing levels of the tree top-down, one level per
    statement; ``known`` is the caller's cache (updated in place, returned)."""
    todo = {category_key(path): path for path in paths if path and all(name_normalize(p) for p in path)}
    depth = max((len(key) for key in todo), default=0)
    for level in range(1, depth + 1):
        wanted: dict[tuple[str, ...], tuple[str, ...]] = {}
        for key, path in todo.items():
            if len(key) >= level and key[:level] not in known:
                wanted.setdefault(key[:level], path[:level])
        if wanted:
            _categories_level(wanted, known=known, level=level, now=now)
    return known


def _categories_level(
    wanted: dict[tuple[str, ...], tuple[str, ...]],
    *,
    known: dict[tuple[str, ...], int],
    level: int,
    now: datetime,
) -> None:
    _categories_load(wanted, known=known)
    missing = [(key, path) for key, path in wanted.items() if key not in known]
    if not missing:
        return
    rows = []
    for key, path in missing:
        parent_id = known.get(key[:-1]) if level > 1 else None
        full_path = CATEGORY_PATH_SEPARATOR.join(p.strip() for p in path)
        rows.append((path[-1].strip(), key[-1], parent_id, full_path, "", False, now, now))
    with connection.cursor() as cursor:
        bulk_insert(
            table=Category._meta.db_table,
            columns=[
                ("name", "text"),
                ("normalized_name", "text"),
                ("parent_id", "bigint"),
                ("full_path", "text"),
                ("ps_category_name", "text"),
                ("auto_import", "boolean"),
                *_TIMESTAMPS,
            ],
            rows=rows,
            cursor=cursor,
            on_conflict="ON CONFLICT DO NOTHING",
        )
    _categories_load(dict(missing), known=known)


def _categories_load(
    wanted: dict[tuple[str, ...], tuple[str, ...]], *, known: dict[tuple[str, ...], int]
) -> None:
    by_parent: dict[int | None, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for key in wanted:
        parent = known.get(key[:-1]) if len(key) > 1 else None
        if len(key) > 1 and parent is None:
            continue  # the parent does not exist yet, so neither does the child
        by_parent[parent][key[-1]] = key
    for parent, names in by_parent.items():
        found = Category.objects.filter(parent_id=parent, normalized_name__any_of=list(names)).values_list(
            "normalized_name", "id"
        )
        for normalized, category_id in found:
            known[names[normalized]] = category_id
