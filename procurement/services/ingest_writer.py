"""Writes one chunk of canonical feed rows to the catalog, set-based.

Per chunk, a fixed number of statements whatever the chunk size, in named stages:

1. ``_rows_sort``: seen items (``SeenRow``, recognised before mapping) cost no write at all (the
   run's ``KnownItems`` remembers them for the missing-offer step); rows mapped but unchanged
   since the offer was written (same row fingerprint) only get the run's mark; the rest are
   written.
2. ``_staged``: each row once, as one staging row: the offer, and what it says about its product
   (with brand and category ids, found or created here).
3. ``_merge``: the staging rows are copied once (procurement.sql) and merged in SQL: their
   products (catalog.services.products applies the identity policy), then the offers, their
   events and the products' dirty marks, then the product attributes. No id comes back.
4. holds (procurement.services.ingest_holds), then the dirty marks the holds and the in-stock
   end-of-life products add: the intent of the catalog step, committed with the chunk.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.db import OperationalError, connection, transaction
from django.db.models import Subquery

from catalog.models import Product, ProductSupplierEvent
from catalog.normalize import name_normalize, partnumber_normalize
from catalog.services.dirty import products_mark_dirty
from catalog.services.events import EventRow, product_events_insert
from catalog.services.products import (
    brands_resolve,
    categories_resolve,
    category_key,
    products_merge_staged,
)
from genesys.db import PlainValues, bulk_update
from genesys.failpoints import failpoint
from procurement import sql
from procurement.feeds.known import KnownItems, SeenRow, sku_key
from procurement.feeds.mapping import MappedRow
from procurement.ingest_rules import StoredOffer, offer_change_kind, rows_last_wins
from procurement.models import FeedRun, IdentityRule, SupplierFeed, SupplierItem
from procurement.services.ingest_holds import holds_apply

logger = logging.getLogger(__name__)
Reason = ProductSupplierEvent.Reason
DUPLICATE_SKUS_KEPT = 5
# ``json.dumps(…, ensure_ascii=False)`` builds an encoder for every call: one, reused.
_meta_json = json.JSONEncoder(ensure_ascii=False).encode


# The tables a run grows whose row counts the chunk statements' plans depend on, with the
# chunk counter that says how many rows it added to each, and the columns those statements
# join, filter or sort on: a run's ANALYZE samples only these (the row count comes with any
# column), half the cost of the whole table at 100,000 rows; autovacuum analyses the rest.
# And the least growth worth an ANALYZE.
_GROWN = (
    (
        SupplierItem._meta.db_table,
        "offers_created",
        (
            "id", "feed_id", "sku", "product_id", "price", "stock", "hold_reason", "missing_since",
            "raw_hash", "last_read_run_id",
        ),
    ),
    (
        Product._meta.db_table,
        "products_created",
        (
            "id", "gtin", "brand_id", "partnumber_normalized", "variant", "category_id", "is_eol",
            "id_ecommerce",
        ),
    ),
)  # fmt: skip
_GROWTH_ANALYZED = 2000


class _SkusWritten:
    """The SKUs a feed's first run has written, as bits of a 2 MB set (their ``sku_key``):
    ``in`` may say yes for a SKU never added (a shared bit: a lookup more, about 6 % of the SKUs
    at a million rows, fewer below), never no for one added."""

    _BITS = 1 << 24

    def __init__(self) -> None:
        self._bits = bytearray(self._BITS // 8)

    def _place(self, sku: str) -> tuple[int, int]:
        at = sku_key(sku) & (self._BITS - 1)
        return at >> 3, 1 << (at & 7)

    def add(self, sku: str) -> None:
        at, mask = self._place(sku)
        self._bits[at] |= mask

    def __contains__(self, sku: str) -> bool:
        at, mask = self._place(sku)
        return bool(self._bits[at] & mask)


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
    affected_product_ids: set[int] = field(default_factory=set)  # marked dirty by the holds
    identity_conflict_product_ids: set[int] = field(default_factory=set)  # open conflicts
    price_outlier_item_ids: set[int] = field(default_factory=set)  # offers held as outliers

    def duplicate_add(self, sku: str) -> None:
        self.duplicates += 1
        if len(self.duplicate_skus) < DUPLICATE_SKUS_KEPT and sku not in self.duplicate_skus:
            self.duplicate_skus.append(sku)


@dataclass
class _Sorted:
    """A chunk's rows by what they cost: only "seen", a new fingerprint, or a write."""

    seen_ids: list[int] = field(default_factory=list)  # SeenRows' offers, then rows mapped unchanged
    fingerprints: list[tuple[int, str]] = field(default_factory=list)  # (offer id, new fingerprint)
    to_write: list[MappedRow] = field(default_factory=list)


class IngestWriter:
    """Writes chunks of one feed run: offers, events and attributes; remembers brands and
    categories across chunks."""

    def __init__(
        self, *, feed: SupplierFeed, run: FeedRun, now: datetime, known: KnownItems | None = None
    ) -> None:
        self.feed = feed
        self.run = run
        self.now = now
        self.known = known  # the feed's offers as the run began, and those it has seen since
        self.brands: dict[str, int] = {}  # normalised name -> id
        self.categories: dict[tuple[str, ...], int] = {}  # normalised path -> id
        self._rules: dict[tuple, tuple[int, str, str]] | None = None  # split rules, read once
        self._planner_rows: dict[str, int] | None = None  # table -> rows the planner knows of
        self._grown: dict[str, int] = {}  # table -> rows this run added since its last ANALYZE

    # -- the chunk ---------------------------------------------------------------------------

    def write(self, rows: Sequence[MappedRow | SeenRow]) -> ChunkOutcome:
        """Write a chunk in the caller's transaction."""
        mapped, duplicates = rows_last_wins(row for row in rows if type(row) is MappedRow)
        sorted_rows = _Sorted(seen_ids=[row.item_id for row in rows if type(row) is SeenRow])
        outcome = ChunkOutcome(
            rows=len(sorted_rows.seen_ids) + len(mapped),
            duplicates=len(duplicates),
            duplicate_skus=list(dict.fromkeys(duplicates))[:DUPLICATE_SKUS_KEPT],
        )
        # Seen items are not written: ``self.known`` took them, and tells the missing-offer step.
        seen_before = len(sorted_rows.seen_ids)
        self._rows_sort(mapped, sorted_rows, outcome)
        outcome.offers_unchanged += len(sorted_rows.seen_ids)
        if len(sorted_rows.seen_ids) > seen_before:
            SupplierItem.objects.filter(id__any_of=PlainValues(sorted_rows.seen_ids[seen_before:])).update(
                last_read_run=self.run, missing_since=None
            )
        self._fingerprints_update(sorted_rows.fingerprints)
        if sorted_rows.to_write:
            self._merge(sorted_rows.to_write, outcome)
            self._written_note(sorted_rows.to_write)
            holds_apply(writer=self, skus=[row.sku for row in sorted_rows.to_write], outcome=outcome)
        # The catalog step's intent, committed with the offers it is about (catalog.services.dirty);
        # the merge marked what it wrote.
        products_mark_dirty(
            product_ids=outcome.affected_product_ids | self._eol_in_stock(sorted_rows.seen_ids),
            run_id=self.run.pk,
        )
        return outcome

    def _rows_sort(self, mapped: list[MappedRow], into: _Sorted, outcome: ChunkOutcome) -> None:
        """Sort the mapped rows against the stored offers of their SKUs (one read)."""
        stored = self._stored_offers([row.sku for row in mapped])
        for row in mapped:
            offer = stored.get(row.sku)
            if offer is not None and self._listed_before(offer):
                outcome.duplicate_add(row.sku)  # listed earlier in this run: the later line wins
            if offer is not None and offer_change_kind(stored=offer, row_hash=row.row_hash) == "unchanged":
                into.seen_ids.append(offer.item_id)
                if offer.raw_hash != (kept := _fingerprint_kept(row)):
                    into.fingerprints.append((offer.item_id, kept))
            else:
                into.to_write.append(row)

    def _listed_before(self, offer: StoredOffer) -> bool:
        """Whether an earlier line of this run listed the offer: it was read in full (the run's
        mark), or handed on unchanged (the known items say so; nothing was written)."""
        if offer.last_read_run_id == self.run.pk:
            return True
        return self.known is not None and self.known.seen(item_id=offer.item_id, raw_hash=offer.raw_hash)

    def _stored_offers(self, skus: list[str]) -> dict[str, StoredOffer]:
        """The stored offers of these SKUs (one read). On a feed's first run only the SKUs it may
        have written already are read: none, mostly (a first ingest's chunks read nothing)."""
        if (written := self._written) is not None:
            skus = [sku for sku in skus if sku in written]
            if not skus:
                return {}
        rows = (
            SupplierItem.objects.filter(feed_id=self.feed.pk, sku__any_of=PlainValues(skus))
            .order_by()
            .values_list(
                "sku", "id", "product_id", "price", "stock", "row_hash", "last_read_run_id", "raw_hash"
            )
        )
        return {
            sku: StoredOffer(item_id, pid, price, stock, h, seen, raw)
            for sku, item_id, pid, price, stock, h, seen, raw in rows
        }

    @cached_property
    def _written(self) -> _SkusWritten | None:
        """On a feed's first run (no offer when it began: asked before its first write), the
        SKUs it has written; None for a feed that had offers, whose SKUs are all looked up."""
        if SupplierItem.objects.filter(feed_id=self.feed.pk).exists():
            return None
        return _SkusWritten()

    def _written_note(self, rows: Sequence[MappedRow]) -> None:
        """On a feed's first run: these rows' SKUs have stored offers from now on."""
        if (written := self._written) is not None:
            for row in rows:
                written.add(row.sku)

    def _fingerprints_update(self, fingerprints: list[tuple[int, str]]) -> None:
        """Same row, new source fingerprint (a new profile or mapping code): store it."""
        if fingerprints:
            with connection.cursor() as cursor:
                bulk_update(
                    table=SupplierItem._meta.db_table,
                    key=("id", "bigint"),
                    columns=[("raw_hash", "text")],
                    rows=fingerprints,
                    cursor=cursor,
                )

    def _eol_in_stock(self, item_ids: list[int]) -> set[int]:
        """End-of-life products that offers seen again in stock bring back (one read; the merge
        marks those of the offers it writes itself)."""
        if not item_ids:
            return set()
        in_stock = (
            SupplierItem.objects.filter(id__any_of=PlainValues(item_ids), stock__gt=0)
            .order_by()
            .values("product_id")
        )
        return set(
            Product.objects.filter(is_eol=True, id__in=Subquery(in_stock)).values_list("id", flat=True)
        )

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

    def _staged(self, rows: Sequence[MappedRow]) -> list[tuple]:
        """The chunk's staging rows (``sql.STAGE_COLUMNS``): the offer, then what it says about
        its product, with brand and category ids. An operator's split rule comes first: a SKU it
        covers is a product of its own (the rule's brand and part number, with the SKU as the
        identity variant)."""
        # A chunk repeats a few hundred brands and category paths: each distinct one is looked
        # up once. The main thread's Python adds to the run's time one for one (the database
        # waits for it), and shares the GIL with the read-ahead thread.
        brand_names = {row.brand for row in rows if row.brand}
        paths = {row.category for row in rows if row.category}
        brands = brands_resolve(names=brand_names, known=self.brands, now=self.now)
        categories = categories_resolve(paths=paths, known=self.categories, now=self.now)
        brand_of = {name: brands.get(name_normalize(name)) for name in brand_names}
        category_of = {path: categories.get(category_key(path)) for path in paths}
        rules = self._split_rules()
        staged = []
        for pos, row in enumerate(rows):
            brand_id = brand_of[row.brand] if row.brand else None
            pn = partnumber_normalize(row.partnumber) if row.partnumber else ""
            identity: tuple = (row.gtin, brand_id, row.partnumber or "", pn, "")
            if rules:
                target = (rules.get(("gtin", row.gtin)) if row.gtin else None) or rules.get(
                    ("bpn", brand_id, pn)
                )
                if target is not None:
                    identity = (None, target[0], target[2], target[1], f"{self.feed.supplier_id}:{row.sku}")
            staged.append(
                (
                    pos,
                    row.sku,
                    None,  # the product merge writes it
                    row.gtin_raw,
                    row.partnumber[:255],
                    row.name[:255],
                    row.brand[:120],
                    row.price,
                    row.stock,
                    row.row_hash,
                    _fingerprint_kept(row),
                    _meta_json(row.meta) if row.meta else None,
                    *identity,
                    row.name or "",
                    row.description or "",
                    row.image_url or "",
                    row.weight,
                    category_of[row.category] if row.category else None,
                )
            )
        return staged

    # -- products, offers, events and attributes --------------------------------------------

    def _merge(self, rows: Sequence[MappedRow], outcome: ChunkOutcome) -> None:
        """Stage the rows once and merge them in SQL: their products (catalog.services.products),
        then the offers with their events and marks, then the attributes (procurement.sql)."""
        staged = self._staged(rows)
        with connection.cursor() as cursor:
            sql.chunk_stage(cursor=cursor, rows=staged)
        products = products_merge_staged(stage=sql.STAGE_TABLE, now=self.now)
        outcome.products_created += products.created
        outcome.products_updated += products.updated
        with connection.cursor() as cursor:
            counts = sql.chunk_merge(
                cursor=cursor,
                feed_id=self.feed.pk,
                supplier_id=self.feed.supplier_id,
                run_id=self.run.pk,
                now=self.now,
            )
            sql.meta_merge(cursor=cursor, now=self.now)
        outcome.offers_created += counts.offers_created
        outcome.offers_changed += counts.offers_changed
        outcome.events += counts.events

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

    # -- the planner's statistics ------------------------------------------------------------

    def statistics_follow(self, *, chunk: ChunkOutcome) -> list[str]:
        """After a committed chunk: ANALYZE the tables this run has grown by as many rows as the
        planner knew of (so at 1, 2, 4, 8… chunks into a first ingest, never in a re-run).

        Autovacuum follows a table that grows from nothing to a million rows in minutes far
        behind; meanwhile the planner believes a feed has a few offers and scans all of them for
        each chunk, which makes a first ingest quadratic. Returns the tables analysed.
        """
        with connection.cursor() as cursor:
            if self._planner_rows is None:
                self._planner_rows = sql.tables_rows(cursor=cursor, tables=[t for t, _, _ in _GROWN])
            stale = {}
            for table, counter, columns in _GROWN:
                self._grown[table] = self._grown.get(table, 0) + getattr(chunk, counter)
                known = self._planner_rows.get(table)
                if known is not None and self._grown[table] >= max(_GROWTH_ANALYZED, known):
                    stale[table] = columns
            if not stale:
                return []
            try:
                with transaction.atomic():
                    sql.tables_analyze(cursor=cursor, tables=stale)
            except OperationalError:  # the table's lock is held (a VACUUM): a later chunk tries again
                logger.info("Statistics of %s not refreshed: the table is locked", ", ".join(stale))
                return []
            for table in stale:
                self._planner_rows[table] += self._grown.pop(table)
        return list(stale)

    # -- offers the run did not see --------------------------------------------------------------

    def rejected_seen(self, *, skus: Sequence[str]) -> int:
        """Mark as read the offers whose row was rejected (a bad price or stock, no identity...)
        but whose SKU could be read: the supplier still lists them, so they keep their last known
        price and stock rather than being zeroed as missing. In the caller's transaction; returns
        how many offers it marked (not those an earlier line of the run already listed)."""
        listed = SupplierItem.objects.filter(feed_id=self.feed.pk, sku__any_of=PlainValues(set(skus)))
        unread = listed.exclude(last_read_run_id=self.run.pk)
        ids = [
            item_id
            for item_id, raw_hash in unread.values_list("id", "raw_hash")
            if self.known is None or not self.known.seen(item_id=item_id, raw_hash=raw_hash)
        ]
        if not ids:
            return 0
        return SupplierItem.objects.filter(id__any_of=PlainValues(ids)).update(
            last_read_run=self.run, missing_since=None
        )

    def unseen_zero(self, *, batch: int = 5000) -> tuple[int, int]:
        """Set offers of this feed missing from the run to stock 0, with ``feed_missing`` events,
        and note since when each missing offer is missing.

        Returns (offers zeroed, offers missing that were already at 0); each batch marks its
        products for the catalog step in its own transaction.
        """
        zeroed = already_zero = 0
        for ids in self._unlisted_batches(batch=batch):
            with transaction.atomic():
                batch_zeroed, batch_at_zero = self._unlisted_settle(ids)
            failpoint("ingest.unseen_batch_committed")
            zeroed += batch_zeroed
            already_zero += batch_at_zero
        return zeroed, already_zero

    def _unlisted_batches(self, *, batch: int) -> Iterator[Sequence[int]]:
        """Ids of offers that may be missing, a batch at a time: those the run began with and did
        not hand on as seen (its known items), else every offer without the run's mark."""
        if self.known is not None:
            unlisted = self.known.unlisted_ids()
            for at in range(0, len(unlisted), batch):
                yield unlisted[at : at + batch]
            return
        unread = SupplierItem.objects.filter(feed_id=self.feed.pk).exclude(last_read_run_id=self.run.pk)
        after = 0
        while ids := list(unread.filter(id__gt=after).order_by("id").values_list("id", flat=True)[:batch]):
            yield ids
            after = ids[-1]

    def _unlisted_settle(self, ids: Sequence[int]) -> tuple[int, int]:
        """Zero the missing offers among ``ids`` (those without the run's mark) that still have
        stock, and date the others' absence; returns (zeroed, already at 0)."""
        missing = list(
            SupplierItem.objects.filter(id__any_of=PlainValues(list(ids)), feed_id=self.feed.pk)
            .exclude(last_read_run_id=self.run.pk)
            .values_list("id", "product_id", "price", "stock", "missing_since")
        )
        in_stock = [(item_id, pid, price, stock) for item_id, pid, price, stock, _ in missing if stock > 0]
        if in_stock:
            # The fingerprints go too: the offer no longer says what its last row said, so
            # that row listed again is a change (stock back), not an unchanged repeat.
            SupplierItem.objects.filter(id__any_of=PlainValues([c[0] for c in in_stock]), stock__gt=0).update(
                stock=0, row_hash="", raw_hash="", missing_since=self.now, updated_at=self.now
            )
            product_events_insert(
                events=[
                    self._event(Reason.FEED_MISSING, pid, item_id, price, price, stock, 0)
                    for item_id, pid, price, stock in in_stock
                ]
            )
            products_mark_dirty(product_ids=(c[1] for c in in_stock), run_id=self.run.pk)
        undated = [item_id for item_id, _, _, stock, since in missing if stock == 0 and since is None]
        if undated:
            SupplierItem.objects.filter(id__any_of=PlainValues(undated)).update(missing_since=self.now)
        return len(in_stock), len(missing) - len(in_stock)
