"""Writes one chunk of canonical feed rows to the catalog, set-based.

Per chunk, a fixed number of statements whatever the chunk size: read the stored offers by SKU,
resolve or create brands, categories and products, fill empty product fields, upsert product
attributes, upsert the offers, write their events, and mark unchanged offers as seen. An
unchanged row (same fingerprint as last time) costs nothing but the "seen" update; a
``SeenRow`` (an item recognised before mapping) goes straight to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction

from catalog.models import Brand, Category, Product, ProductMeta, ProductSupplierEvent
from catalog.models.taxonomy import CATEGORY_PATH_SEPARATOR
from catalog.normalize import name_normalize, partnumber_normalize
from catalog.services.dirty import products_mark_dirty
from catalog.services.events import EventRow, product_events_insert
from genesys.db import bulk_insert, bulk_update
from genesys.failpoints import failpoint
from procurement.feeds.known import SeenRow
from procurement.feeds.mapping import MappedRow
from procurement.ingest_rules import (
    FILLABLE_FIELDS,
    StoredOffer,
    canonical_fill,
    offer_change_kind,
    rows_last_wins,
)
from procurement.models import FeedRun, IdentityRule, SupplierFeed, SupplierItem
from procurement.services.ingest_holds import holds_apply

Reason = ProductSupplierEvent.Reason

# The product columns an ingest writes, with their PostgreSQL types, in FILLABLE_FIELDS order.
_FILLABLE_COLUMNS = tuple(
    zip(
        FILLABLE_FIELDS,
        ("text", "bigint", "text", "text", "text", "text", "text", "numeric", "bigint"),
        strict=True,
    )
)
DUPLICATE_SKUS_KEPT = 5
_IDENTITY_FIELDS = frozenset({"gtin", "brand_id", "partnumber", "partnumber_normalized"})
_PRODUCT_LOOKUP = ("id", "variant", *FILLABLE_FIELDS)


def _fingerprint_kept(row: MappedRow) -> str:
    """The source fingerprint to store: none for a row with warnings, so that the next run maps
    it again and reports its warnings again."""
    return "" if row.warnings else row.raw_digest


@dataclass
class ChunkOutcome:
    rows: int = 0
    duplicates: int = 0
    duplicate_skus: list[str] = field(default_factory=list)  # the first few, for the run's warning
    products_created: int = 0
    products_updated: int = 0
    offers_created: int = 0
    offers_changed: int = 0
    offers_unchanged: int = 0
    events: int = 0
    affected_product_ids: set[int] = field(default_factory=set)
    identity_conflict_product_ids: set[int] = field(default_factory=set)  # open conflicts
    price_outlier_item_ids: set[int] = field(default_factory=set)  # offers held as outliers
    in_stock_eol_product_ids: set[int] = field(default_factory=set)


class IngestWriter:
    """Writes chunks of one feed run; remembers brands and categories across chunks."""

    def __init__(self, *, feed: SupplierFeed, run: FeedRun, now: datetime) -> None:
        self.feed = feed
        self.run = run
        self.now = now
        self.brands: dict[str, int] = {}  # normalised name -> id
        self.categories: dict[tuple[str, ...], int] = {}  # normalised path -> id
        self._rules: dict[tuple, tuple[int, str, str]] | None = None  # split rules, read once

    # -- the chunk ---------------------------------------------------------------------------

    def write(self, rows: Sequence[MappedRow | SeenRow]) -> ChunkOutcome:
        """Write a chunk in the caller's transaction."""
        seen = [row.item_id for row in rows if type(row) is SeenRow]
        mapped, duplicates = rows_last_wins(row for row in rows if type(row) is MappedRow)
        outcome = ChunkOutcome(
            rows=len(seen) + len(mapped),
            duplicates=len(duplicates),
            duplicate_skus=list(dict.fromkeys(duplicates))[:DUPLICATE_SKUS_KEPT],
        )
        in_stock_products: set[int] = set()
        if seen:
            # Items identical to the ones that wrote these offers: only "seen" changes. First, so
            # that a later line of the same SKU in this chunk counts as a duplicate.
            SupplierItem.objects.filter(id__any_of=seen).update(last_seen_run=self.run)
            outcome.offers_unchanged += len(seen)
            in_stock_products.update(
                SupplierItem.objects.filter(id__any_of=seen, stock__gt=0)
                .order_by()
                .values_list("product_id", flat=True)
            )
        stored = self._stored_offers([row.sku for row in mapped])
        to_write: list[tuple[MappedRow, StoredOffer | None]] = []
        unchanged: list[int] = []
        fingerprints: list[tuple[int, str]] = []
        for row in mapped:
            offer = stored.get(row.sku)
            if offer is not None and offer.last_seen_run_id == self.run.pk:
                outcome.duplicates += 1  # listed earlier in this run: the later line wins
                if (
                    len(outcome.duplicate_skus) < DUPLICATE_SKUS_KEPT
                    and row.sku not in outcome.duplicate_skus
                ):
                    outcome.duplicate_skus.append(row.sku)
            if offer_change_kind(stored=offer, row_hash=row.row_hash) == "unchanged":
                unchanged.append(offer.item_id)
                if row.stock > 0:
                    in_stock_products.add(offer.product_id)
                if offer.raw_hash != (kept := _fingerprint_kept(row)):
                    fingerprints.append((offer.item_id, kept))
            else:
                to_write.append((row, offer))
        outcome.offers_unchanged += len(unchanged)
        if unchanged:
            SupplierItem.objects.filter(id__any_of=unchanged).update(last_seen_run=self.run)
        if fingerprints:  # same row, new source fingerprint (new profile or mapping code)
            with connection.cursor() as cursor:
                bulk_update(
                    table=SupplierItem._meta.db_table,
                    key=("id", "bigint"),
                    columns=[("raw_hash", "text")],
                    rows=fingerprints,
                    cursor=cursor,
                )
        if to_write:
            product_of = self._resolve_products([row for row, _ in to_write], outcome)
            self._write_meta(to_write, product_of)
            self._write_offers(to_write, product_of, outcome)
            holds_apply(
                writer=self, rows=[row for row, _ in to_write], product_of=product_of, outcome=outcome
            )
            in_stock_products.update(product_of[row.sku] for row, _ in to_write if row.stock > 0)
        if in_stock_products:
            outcome.in_stock_eol_product_ids = set(
                Product.objects.filter(id__any_of=list(in_stock_products), is_eol=True).values_list(
                    "id", flat=True
                )
            )
        # The catalog step's intent, committed with the offers it is about (catalog.services.dirty).
        products_mark_dirty(
            product_ids=outcome.affected_product_ids | outcome.in_stock_eol_product_ids, run_id=self.run.pk
        )
        return outcome

    def _stored_offers(self, skus: list[str]) -> dict[str, StoredOffer]:
        rows = (
            SupplierItem.objects.filter(feed_id=self.feed.pk, sku__any_of=skus)
            .order_by()
            .values_list(
                "sku", "id", "product_id", "price", "stock", "row_hash", "last_seen_run_id", "raw_hash"
            )
        )
        return {
            sku: StoredOffer(item_id, pid, price, stock, h, seen, raw)
            for sku, item_id, pid, price, stock, h, seen, raw in rows
        }

    # -- brands and categories ---------------------------------------------------------------

    def _brand_ids(self, names: Iterable[str]) -> dict[str, int]:
        """Normalised brand name -> id, creating the brands nobody has seen yet."""
        wanted: dict[str, str] = {}
        for name in names:
            key = name_normalize(name)
            if key and key not in self.brands:
                wanted.setdefault(key, name)
        if wanted:
            self.brands.update(
                Brand.objects.filter(normalized_name__any_of=list(wanted)).values_list(
                    "normalized_name", "id"
                )
            )
            missing = [
                (display, key, self.now, self.now)
                for key, display in wanted.items()
                if key not in self.brands
            ]
            with connection.cursor() as cursor:
                bulk_insert(
                    table=Brand._meta.db_table,
                    columns=[
                        ("name", "text"),
                        ("normalized_name", "text"),
                        ("created_at", "timestamptz"),
                        ("updated_at", "timestamptz"),
                    ],
                    rows=missing,
                    cursor=cursor,
                    on_conflict="ON CONFLICT DO NOTHING",
                )
            if missing:  # read back, including brands a concurrent ingest created first
                self.brands.update(
                    Brand.objects.filter(normalized_name__any_of=[m[1] for m in missing]).values_list(
                        "normalized_name", "id"
                    )
                )
        return self.brands

    def _category_ids(self, paths: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
        """Normalised path -> id, creating missing levels of the tree top-down."""
        todo = {
            tuple(name_normalize(p) for p in path): path
            for path in paths
            if path and all(name_normalize(p) for p in path)
        }
        depth = max((len(key) for key in todo), default=0)
        for level in range(1, depth + 1):
            wanted: dict[tuple[str, ...], tuple[str, ...]] = {}
            for key, path in todo.items():
                if len(key) >= level and key[:level] not in self.categories:
                    wanted.setdefault(key[:level], path[:level])
            if not wanted:
                continue
            self._categories_load(wanted)
            missing = [(key, path) for key, path in wanted.items() if key not in self.categories]
            rows = []
            for key, path in missing:
                parent_id = self.categories.get(key[:-1]) if level > 1 else None
                full_path = CATEGORY_PATH_SEPARATOR.join(p.strip() for p in path)
                rows.append((path[-1].strip(), key[-1], parent_id, full_path, "", False, self.now, self.now))
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
                        ("created_at", "timestamptz"),
                        ("updated_at", "timestamptz"),
                    ],
                    rows=rows,
                    cursor=cursor,
                    on_conflict="ON CONFLICT DO NOTHING",
                )
            if missing:
                self._categories_load(dict(missing))
        return self.categories

    def _categories_load(self, wanted: dict[tuple[str, ...], tuple[str, ...]]) -> None:
        by_parent: dict[int | None, dict[str, tuple[str, ...]]] = defaultdict(dict)
        for key in wanted:
            parent = self.categories.get(key[:-1]) if len(key) > 1 else None
            if len(key) > 1 and parent is None:
                continue  # the parent does not exist yet, so neither does the child
            by_parent[parent][key[-1]] = key
        for parent, names in by_parent.items():
            found = Category.objects.filter(
                parent_id=parent, normalized_name__any_of=list(names)
            ).values_list("normalized_name", "id")
            for normalized, category_id in found:
                self.categories[names[normalized]] = category_id

    # -- products ----------------------------------------------------------------------------

    def _split_rules(self) -> dict[tuple, tuple[int, str, str]]:
        """The supplier's split rules (few, read once per run): identity key -> (brand id,
        normalised part number, part number) of the products its SKUs are split into."""
        if self._rules is None:
            self._rules = {}
            rules = IdentityRule.objects.filter(supplier_id=self.feed.supplier_id).values_list(
                "brand_id", "partnumber_normalized", "partnumber", "gtin"
            )
            for brand_id, pn, partnumber, gtin in rules:
                target = (brand_id, pn, partnumber)
                self._rules[("bpn", brand_id, pn)] = target
                if gtin:
                    self._rules[("gtin", gtin)] = target
        return self._rules

    def _resolve_products(self, rows: Sequence[MappedRow], outcome: ChunkOutcome) -> dict[str, int]:
        """SKU -> product id: a valid GTIN decides, else brand + part number; creates the rest.

        An operator's split rule comes first: a SKU it covers is a product of its own (the rule's
        brand and part number, with the SKU as the identity variant).
        """
        brands = self._brand_ids(row.brand for row in rows if row.brand)
        categories = self._category_ids(row.category for row in rows if row.category)
        rules = self._split_rules()
        # Each row's brand id, normalised part number and split target, worked out once.
        keys: dict[str, tuple[int | None, str]] = {}
        split: dict[str, tuple[int, str, str]] = {}
        for row in rows:
            brand_id = brands.get(name_normalize(row.brand)) if row.brand else None
            pn = partnumber_normalize(row.partnumber) if row.partnumber else ""
            keys[row.sku] = (brand_id, pn)
            if rules:
                target = rules.get(("gtin", row.gtin)) if row.gtin else None
                target = target or rules.get(("bpn", brand_id, pn))
                if target is not None:
                    split[row.sku] = target

        def variant_of(row: MappedRow) -> str:
            return f"{self.feed.supplier_id}:{row.sku}" if row.sku in split else ""

        def category_of(row: MappedRow) -> int | None:
            if not row.category:
                return None
            return categories.get(tuple(name_normalize(p) for p in row.category))

        gtins = list({row.gtin for row in rows if row.gtin and row.sku not in split})
        by_gtin = {
            p["gtin"]: p
            for p in Product.objects.filter(gtin__any_of=gtins).order_by().values(*_PRODUCT_LOOKUP)
        }
        pairs = {key for key in keys.values() if key[0] is not None and key[1]}
        pairs.update((brand_id, pn) for brand_id, pn, _ in split.values())
        by_pair: dict[tuple[int, str, str], list[dict]] = defaultdict(list)
        if pairs:
            candidates = (
                Product.objects.filter(
                    brand_id__any_of=list({b for b, _ in pairs}),
                    partnumber_normalized__any_of=list({p for _, p in pairs}),
                )
                .order_by("id")
                .values(*_PRODUCT_LOOKUP)
            )
            for product in candidates:
                key = (product["brand_id"], product["partnumber_normalized"])
                if key in pairs:
                    by_pair[(*key, product["variant"])].append(product)

        product_of: dict[str, int] = {}
        fills: dict[int, dict[str, Any]] = {}
        new_rows: dict[tuple, tuple[MappedRow, int | None, str, str]] = {}
        new_key_of: dict[str, tuple] = {}
        new_pairs: dict[tuple[int | None, str], tuple] = {}  # brand + part number -> new product key
        for row in rows:
            if row.sku in split:
                brand_id, pn, partnumber = split[row.sku]
                gtin = None
                variant = variant_of(row)
                same = by_pair.get((brand_id, pn, variant), [])
                match = same[0] if same else None
            else:
                brand_id, pn = keys[row.sku]
                partnumber, gtin, variant = row.partnumber, row.gtin, ""
                match = by_gtin.get(row.gtin) if row.gtin else None
                if match is None and brand_id is not None and pn:
                    same = by_pair.get((brand_id, pn, ""), [])
                    if row.gtin:  # a GTIN we don't know: only a product without GTIN can be the same
                        match = next((p for p in same if p["gtin"] is None), None)
                    else:
                        match = same[0] if same else None
            if match is None:
                key = ("gtin", gtin) if gtin else ("bpn", brand_id, pn, variant)
                if not gtin and not variant and (brand_id, pn) in new_pairs:
                    # Like a stored product with this brand + part number: the first new one
                    # of the chunk (with or without GTIN) is the match.
                    key = new_pairs[(brand_id, pn)]
                new_rows.setdefault(key, (row, brand_id, partnumber, pn))
                new_key_of[row.sku] = key
                if not variant and brand_id is not None and pn:
                    new_pairs.setdefault((brand_id, pn), key)
                continue
            product_of[row.sku] = match["id"]
            proposed = {
                "gtin": gtin,
                "brand_id": brand_id,
                "partnumber": partnumber,
                "partnumber_normalized": pn,
                "name": row.name,
                "description": row.description,
                "image_url": row.image_url,
                "weight": row.weight,
                "category_id": category_of(row),
            }
            changes = canonical_fill(current=match, proposed=proposed)
            if changes:
                fills.setdefault(match["id"], {}).update(changes)
                match.update(changes)  # later rows of the chunk see the filled product
        if new_rows:
            ids, created = self._products_create(new_rows, category_of)
            outcome.products_created += created
            for sku, key in new_key_of.items():
                product_of[sku] = ids[key]
        if fills:
            outcome.products_updated += self._products_fill(fills)
        return product_of

    def _products_create(
        self, new_rows: dict[tuple, tuple[MappedRow, int | None, str, str]], category_of: Any
    ) -> tuple[dict[tuple, int], int]:
        """Insert new products; returns (identity key -> id, how many this call created)."""
        rows = []
        for key, (row, brand_id, partnumber, pn) in new_rows.items():
            rows.append(
                (
                    key[1] if key[0] == "gtin" else None,
                    brand_id,
                    partnumber,
                    pn,
                    row.name,
                    row.description,
                    row.image_url,
                    row.weight,
                    category_of(row),
                    "" if key[0] == "gtin" else key[3],
                    True,
                    False,
                    self.now,
                    self.now,
                )
            )
        with connection.cursor() as cursor:
            written = bulk_insert(
                table=Product._meta.db_table,
                columns=[
                    *_FILLABLE_COLUMNS,
                    ("variant", "text"),
                    ("is_enabled", "boolean"),
                    ("is_eol", "boolean"),
                    ("created_at", "timestamptz"),
                    ("updated_at", "timestamptz"),
                ],
                rows=rows,
                cursor=cursor,
                on_conflict="ON CONFLICT DO NOTHING",
                returning="id, gtin, brand_id, partnumber_normalized, variant",
            )
        ids: dict[tuple, int] = {}
        for product_id, gtin, brand_id, pn, variant in written:
            ids[("gtin", gtin) if gtin else ("bpn", brand_id, pn, variant)] = product_id
        for key in new_rows:
            if key not in ids:  # a concurrent ingest created it between our lookup and our insert
                if key[0] == "gtin":
                    query = Product.objects.filter(gtin=key[1])
                else:
                    query = Product.objects.filter(
                        gtin__isnull=True, brand_id=key[1], partnumber_normalized=key[2], variant=key[3]
                    )
                ids[key] = query.values_list("id", flat=True).get()
        return ids, len(written)

    def _products_fill(self, fills: dict[int, dict[str, Any]]) -> int:
        """Fill empty product fields in one statement; returns how many products changed."""
        columns = _FILLABLE_COLUMNS
        rows = [(pid, *(changes.get(name) for name, _ in columns)) for pid, changes in fills.items()]
        with connection.cursor() as cursor:
            try:
                with transaction.atomic():
                    bulk_update(
                        table=Product._meta.db_table,
                        key=("id", "bigint"),
                        columns=columns,
                        rows=rows,
                        cursor=cursor,
                        fill_only={name for name, _ in columns},
                    )
            except IntegrityError:
                # A GTIN (or brand + part number) claimed concurrently by another product: fill
                # everything else; the identity stays as it is.
                keep = [c for c in columns if c[0] not in _IDENTITY_FIELDS]
                rows = [(pid, *(changes.get(name) for name, _ in keep)) for pid, changes in fills.items()]
                bulk_update(
                    table=Product._meta.db_table,
                    key=("id", "bigint"),
                    columns=keep,
                    rows=rows,
                    cursor=cursor,
                    fill_only={name for name, _ in keep},
                )
        return len(fills)

    # -- attributes and offers ---------------------------------------------------------------

    def _write_meta(
        self, to_write: Sequence[tuple[MappedRow, StoredOffer | None]], product_of: dict[str, int]
    ) -> None:
        latest: dict[tuple[int, str], str] = {}
        for row, _ in to_write:
            for key, value in row.meta.items():
                latest[(product_of[row.sku], key)] = value
        if not latest:
            return
        table = connection.ops.quote_name(ProductMeta._meta.db_table)
        with connection.cursor() as cursor:
            bulk_insert(
                table=ProductMeta._meta.db_table,
                columns=[
                    ("product_id", "bigint"),
                    ("key", "text"),
                    ("value", "text"),
                    ("updated_at", "timestamptz"),
                ],
                rows=[(pid, key, value, self.now) for (pid, key), value in latest.items()],
                cursor=cursor,
                on_conflict=(
                    "ON CONFLICT (product_id, key) DO UPDATE SET value = excluded.value, "
                    f"updated_at = excluded.updated_at WHERE {table}.value <> excluded.value"
                ),
            )

    def _write_offers(
        self,
        to_write: Sequence[tuple[MappedRow, StoredOffer | None]],
        product_of: dict[str, int],
        outcome: ChunkOutcome,
    ) -> None:
        rows = []
        for row, _ in to_write:
            rows.append(
                (
                    self.feed.pk,
                    self.feed.supplier_id,
                    product_of[row.sku],
                    row.sku,
                    row.gtin_raw,
                    row.partnumber[:255],
                    row.name[:255],
                    row.brand[:120],
                    row.price,
                    row.stock,
                    self.run.pk,
                    row.row_hash,
                    _fingerprint_kept(row),
                    self.now,
                    self.now,
                )
            )
        update = ", ".join(
            f"{name} = excluded.{name}"
            for name in (
                "product_id",
                "gtin_raw",
                "partnumber_raw",
                "name_raw",
                "brand_raw",
                "price",
                "stock",
                "last_seen_run_id",
                "row_hash",
                "raw_hash",
                "updated_at",
            )
        )
        with connection.cursor() as cursor:
            written = bulk_insert(
                table=SupplierItem._meta.db_table,
                columns=[
                    ("feed_id", "bigint"),
                    ("supplier_id", "bigint"),
                    ("product_id", "bigint"),
                    ("sku", "text"),
                    ("gtin_raw", "text"),
                    ("partnumber_raw", "text"),
                    ("name_raw", "text"),
                    ("brand_raw", "text"),
                    ("price", "numeric"),
                    ("stock", "integer"),
                    ("last_seen_run_id", "bigint"),
                    ("row_hash", "text"),
                    ("raw_hash", "text"),
                    ("created_at", "timestamptz"),
                    ("updated_at", "timestamptz"),
                ],
                rows=rows,
                cursor=cursor,
                on_conflict=f"ON CONFLICT (feed_id, sku) DO UPDATE SET {update}",
                returning="id, sku",
            )
        item_ids = dict((sku, item_id) for item_id, sku in written)
        events = []
        for row, stored in to_write:
            product_id = product_of[row.sku]
            item_id = item_ids[row.sku]
            if stored is None or stored.product_id != product_id:
                outcome.offers_created += stored is None
                outcome.offers_changed += stored is not None
                outcome.affected_product_ids.add(product_id)
                if stored is not None:
                    outcome.affected_product_ids.add(stored.product_id)
                events.append(self._event(Reason.INIT, product_id, item_id, None, row.price, None, row.stock))
                continue
            outcome.offers_changed += 1
            if (stored.price, stored.stock) != (row.price, row.stock):
                outcome.affected_product_ids.add(product_id)
                events.append(
                    self._event(
                        Reason.CHANGE, product_id, item_id, stored.price, row.price, stored.stock, row.stock
                    )
                )
        product_events_insert(events=events)
        outcome.events += len(events)

    def _event(
        self,
        reason: str,
        product_id: int,
        item_id: int | None,
        old_price: Decimal | None,
        new_price: Decimal | None,
        old_stock: int | None,
        new_stock: int | None,
    ) -> EventRow:
        return EventRow(
            product_id,
            reason,
            self.now,
            supplier_id=self.feed.supplier_id,
            supplier_item_id=item_id,
            old_price=old_price,
            new_price=new_price,
            old_stock=old_stock,
            new_stock=new_stock,
            run_id=self.run.pk,
        )

    # -- offers the run did not see --------------------------------------------------------------

    def rejected_seen(self, *, skus: Sequence[str]) -> int:
        """Mark as seen the offers whose row was rejected (a bad price or stock, no identity...)
        but whose SKU could be read: the supplier still lists them, so they keep their last known
        price and stock rather than being zeroed as missing. One statement, in the caller's
        transaction; returns how many offers it marked."""
        return (
            SupplierItem.objects.filter(feed_id=self.feed.pk, sku__any_of=list(set(skus)))
            .exclude(last_seen_run_id=self.run.pk)
            .update(last_seen_run=self.run)
        )

    def unseen_zero(self, *, batch: int = 5000) -> tuple[int, int]:
        """Set offers of this feed missing from the run to stock 0, with ``feed_missing`` events.

        Returns (offers zeroed, offers missing that were already at 0); each batch marks its
        products for the catalog step in its own transaction.
        ``last_seen_run`` keeps pointing at the last run that listed the offer.
        """
        missing = SupplierItem.objects.filter(feed_id=self.feed.pk).exclude(last_seen_run_id=self.run.pk)
        already_zero = missing.filter(stock=0).count()
        zeroed = 0
        while True:
            chunk = list(
                missing.filter(stock__gt=0)
                .order_by("id")
                .values_list("id", "product_id", "price", "stock")[:batch]
            )
            if not chunk:
                break
            with transaction.atomic():
                # The fingerprints go too: the offer no longer says what its last row said, so
                # that row listed again is a change (stock back), not an unchanged repeat.
                SupplierItem.objects.filter(id__any_of=[c[0] for c in chunk], stock__gt=0).update(
                    stock=0, row_hash="", raw_hash="", updated_at=self.now
                )
                product_events_insert(
                    events=[
                        self._event(Reason.FEED_MISSING, pid, item_id, price, price, stock, 0)
                        for item_id, pid, price, stock in chunk
                    ]
                )
                products_mark_dirty(product_ids=(c[1] for c in chunk), run_id=self.run.pk)
            failpoint("ingest.unseen_batch_committed")
            zeroed += len(chunk)
        return zeroed, already_zero
