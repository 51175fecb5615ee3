"""Create new catalog products in the shop, disabled (``products_auto_import``).

Safe to stop anywhere (docs/prestashop.md, "Auto-import"):

* **Reference scheme.** A product created by Genesys has the shop reference ``GEN-<product id>``.
  Product ids are never reused by the database, and operators do not type ``GEN-`` references,
  so the reference names one Genesys product and nothing else.
* **Look before creating.** Before each create the shop is searched for that reference. One match
  whose EAN-13 agrees with the product's (both empty counts) is the product an earlier run created
  before it could store the id (a crash, a lost answer): it is adopted, not created again. Several
  matches, or a match with another EAN, are conflicts for the operator. Without a match, a shop
  product with the same EAN-13 but another reference is also a conflict: the shop already sells
  that article and an operator links it by hand, Genesys never takes over a product it did not
  create.
* **Then store.** The shop id is written with a conditional UPDATE (only where it is still empty)
  in a short transaction after the network calls; nothing is sent to the shop inside it.
* **Disabled until an operator says so.** The same transaction turns the product's ``is_enabled``
  off, so its stream payload says ``active: false`` and the sync worker keeps the shop product
  inactive. Enabling the product in Genesys is the operator's "publish"; it reaches the shop
  through the stream like any other change. The transaction also makes sure a stream row with the
  product's current price, stock and active flag is pending (merged into the one that may exist).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import CatalogUpdateStream, Product
from catalog.models.update_stream import DEFAULT_SHOP
from catalog.services.offers import RECOMPUTE_MUTEX, active_offers_recompute, products_flags_set
from genesys.db import transaction_mutex
from prestashop.errors import ShopAuthError, ShopError, ShopTransientError
from prestashop.fields import ean13_for_shop
from prestashop.models import PrestashopCategory
from prestashop.notifications import shop_refused_notify
from prestashop.selectors import (
    brands_manufacturer_ids,
    products_auto_import_candidates,
    shop_categories_by_id,
)
from prestashop.types import ProductDraft, ShopClient, ShopLanguage

logger = logging.getLogger("prestashop.auto_import")

REFERENCE_PREFIX = "GEN-"
CHUNK_SIZE = 200
ERRORS_KEPT = 50
LOCK_NAME = "genesys:prestashop:auto-import"


def product_shop_reference(product_id: int) -> str:
    """The shop reference of a product Genesys creates: ``GEN-<Genesys product id>``."""
    return f"{REFERENCE_PREFIX}{product_id}"


class Action:
    WOULD_CREATE = "would_create"  # dry run
    CREATED = "created"
    ADOPTED = "adopted"  # found in the shop from an earlier, interrupted run
    CONFLICT = "conflict"  # the shop has something that is not safely ours
    SKIPPED = "skipped"  # the mapping does not allow it now
    FAILED = "failed"  # the shop or the data refused it


@dataclass(frozen=True, slots=True)
class ImportItem:
    """One candidate and what happened to it (the command prints these)."""

    product_id: int
    reference: str
    action: str
    name: str = ""
    price: str = ""
    stock: int = 0
    id_category: int | None = None
    id_manufacturer: int | None = None
    ean13: str | None = None
    id_ecommerce: int | None = None
    message: str = ""


@dataclass
class AutoImportResult:
    candidates: int = 0
    created: int = 0
    adopted: int = 0
    conflicts: int = 0
    skipped: int = 0
    failed: int = 0
    would_create: int = 0
    without_manufacturer: int = 0  # created without a brand: no shop manufacturer matches it
    dry_run: bool = False
    stopped: str = ""  # why the run ended before the last candidate (the shop is failing)
    errors: list[str] = field(default_factory=list)  # the first ERRORS_KEPT messages

    def record(self, item: ImportItem) -> None:
        counter = {
            Action.WOULD_CREATE: "would_create",
            Action.CREATED: "created",
            Action.ADOPTED: "adopted",
            Action.CONFLICT: "conflicts",
            Action.SKIPPED: "skipped",
            Action.FAILED: "failed",
        }[item.action]
        setattr(self, counter, getattr(self, counter) + 1)
        if item.message and item.action in (Action.CONFLICT, Action.SKIPPED, Action.FAILED):
            if len(self.errors) < ERRORS_KEPT:
                self.errors.append(f"product {item.product_id} ({item.reference}): {item.message}")


@contextlib.contextmanager
def _single_run() -> Iterator[bool]:
    """One auto-import at a time: two would both find nothing and both create.

    PostgreSQL: a session advisory lock (held across the network calls, outside any transaction;
    released by the database if the process dies). SQLite: an exclusive ``flock`` on a file next
    to the database (single-host deployments).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [LOCK_NAME])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [LOCK_NAME])
        return
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name:
        yield True
        return
    descriptor = os.open(f"{name}.auto-import.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@dataclass(frozen=True, slots=True)
class _Lookup:
    id_product: int | None = None
    conflict: str = ""


def _normal_ean(value: str | None) -> str:
    value = (value or "").strip()
    return "" if value.strip("0") == "" else value


def _shop_lookup(client: ShopClient, *, reference: str, ean13: str | None) -> _Lookup:
    """Is this product already in the shop (ours, from an interrupted run), or in the way?"""
    matches = [
        ref for ref in client.find_products(reference=reference) if ref.reference.strip().upper() == reference
    ]
    if len(matches) > 1:
        ids = ", ".join(str(ref.id) for ref in matches)
        return _Lookup(
            conflict=f"several shop products have reference {reference} ({ids}); keep one and link it"
        )
    if matches:
        [found] = matches
        if _normal_ean(found.ean13) == _normal_ean(ean13):
            return _Lookup(id_product=found.id)
        return _Lookup(
            conflict=f"shop product {found.id} has reference {reference} but EAN {found.ean13 or 'none'}, "
            f"not {ean13 or 'none'}; check it and link it by hand"
        )
    if ean13:
        same_ean = client.find_products(ean13=ean13)
        if same_ean:
            ids = ", ".join(f"{ref.id} ({ref.reference or 'no reference'})" for ref in same_ean)
            return _Lookup(conflict=f"the shop already has EAN {ean13} as product {ids}; link it by hand")
    return _Lookup()


def _product_link(*, product_id: int, id_ecommerce: int, now: datetime) -> str:
    """Store the shop id, disable the product, make sure its state is queued; '' when done."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Before touching the product row: recomputes hold this mutex while they update
                # products, so taking it second could deadlock with them.
                transaction_mutex(name=RECOMPUTE_MUTEX, cursor=cursor)
            linked = Product.objects.filter(pk=product_id, id_ecommerce__isnull=True).update(
                id_ecommerce=id_ecommerce, updated_at=now
            )
            if not linked:
                current = Product.objects.filter(pk=product_id).values_list("id_ecommerce", flat=True).first()
                if current == id_ecommerce:
                    return ""
                return f"the product is linked to shop product {current} already"
            reason = CatalogUpdateStream.Reason.AUTO_IMPORTED
            flagged = products_flags_set(product_ids=[product_id], is_enabled=False, reason=reason, now=now)
            if product_id not in flagged.flagged_product_ids:
                # Already disabled (an operator, meanwhile): queue the current state anyway.
                active_offers_recompute(product_ids=[product_id], reason=reason, force_stream=True, now=now)
    except IntegrityError:
        return f"shop product {id_ecommerce} is linked to another Genesys product"
    return ""


def _draft(product: Product, *, reference: str, ean13: str | None, languages: Sequence[ShopLanguage],
           id_manufacturer: int | None) -> ProductDraft:  # fmt: skip
    name = product.name.strip() or " ".join(
        part for part in ((product.brand.name if product.brand else ""), product.partnumber) if part
    )
    texts = {language.iso_code: name for language in languages} or {"en": name}
    descriptions = {code: product.description for code in texts} if product.description.strip() else {}
    return ProductDraft(
        reference=reference,
        names=texts,
        price=product.active_offer.unit_price_sent,
        id_category_default=_shop_category_id(product),
        gtin=ean13,  # already checked: an EAN-13, or None for a GTIN-14 / no GTIN
        descriptions=descriptions,
        id_manufacturer=id_manufacturer,
        weight=product.weight,
    )


def _shop_category_id(product: Product) -> int:
    """The shop category of a candidate (products_auto_import_candidates only returns products
    whose category is mapped to one)."""
    category = product.category
    if category is None or category.id_ps_category is None:
        raise ValueError(f"product {product.pk} is in no category mapped to a shop category")
    return category.id_ps_category


def _describe(product: Product, *, reference: str, action: str, ean13: str | None = None,
              id_manufacturer: int | None = None, **extra) -> ImportItem:  # fmt: skip
    return ImportItem(
        product_id=product.pk,
        reference=reference,
        action=action,
        name=product.name,
        price=str(product.active_offer.unit_price_sent),
        stock=product.active_offer.stock_sent,
        id_category=_shop_category_id(product),
        id_manufacturer=id_manufacturer,
        ean13=ean13,
        **extra,
    )


def products_auto_import(
    *,
    client: ShopClient | None,
    dry_run: bool = False,
    limit: int | None = None,
    on_item: Callable[[ImportItem], None] | None = None,
    now: datetime | None = None,
) -> AutoImportResult:
    """Create the auto-import candidates in the shop, disabled, and store their shop ids.

    ``dry_run`` lists what would be created and contacts nobody (``client`` may be None).
    ``limit`` caps the candidates of this run. A transient or authentication failure of the shop
    stops the run (``stopped``); per-product refusals are counted and the run goes on.
    """
    if client is None and not dry_run:
        raise ValueError("products_auto_import needs a shop client unless dry_run is set")
    result = AutoImportResult(dry_run=dry_run)
    ids = list(products_auto_import_candidates().values_list("id", flat=True)[:limit])
    result.candidates = len(ids)

    def emit(item: ImportItem) -> None:
        result.record(item)
        if on_item is not None:
            on_item(item)

    with _single_run() as acquired:
        if not acquired:
            result.stopped = "another auto-import is running"
            return result
        languages = [] if dry_run or client is None else client.list_languages()
        for start in range(0, len(ids), CHUNK_SIZE):
            products = list(
                products_auto_import_candidates().filter(id__any_of=ids[start : start + CHUNK_SIZE])
            )
            manufacturers = brands_manufacturer_ids(brand_ids={p.brand_id for p in products if p.brand_id})
            shop_categories = shop_categories_by_id(ids={_shop_category_id(p) for p in products})
            for product in products:
                brand_id = product.brand_id
                stop = _import_one(
                    product,
                    client=client,
                    dry_run=dry_run,
                    languages=languages,
                    id_manufacturer=manufacturers.get(brand_id) if brand_id is not None else None,
                    shop_category=shop_categories.get(_shop_category_id(product)),
                    emit=emit,
                    result=result,
                    now=now,
                )
                if stop:
                    result.stopped = stop
                    return result
    return result


def _import_one(
    product: Product,
    *,
    client: ShopClient | None,
    dry_run: bool,
    languages: Sequence[ShopLanguage],
    id_manufacturer: int | None,
    shop_category: PrestashopCategory | None,
    emit: Callable[[ImportItem], None],
    result: AutoImportResult,
    now: datetime | None,
) -> str:
    """Import one product; returns why the whole run must stop, or ''."""
    reference = product_shop_reference(product.pk)
    try:
        ean13 = ean13_for_shop(product.gtin)
    except ShopError as exc:
        emit(_describe(product, reference=reference, action=Action.FAILED, message=str(exc)))
        return ""
    describe = partial(_describe, product, reference=reference, ean13=ean13, id_manufacturer=id_manufacturer)
    if shop_category is not None and not shop_category.usable:
        message = f"shop category {shop_category.pk} is gone from the shop; map the category again"
        emit(describe(action=Action.SKIPPED, message=message))
        return ""
    if dry_run:
        emit(describe(action=Action.WOULD_CREATE))
        return ""
    if client is None:
        raise ValueError("a shop client is needed to import")
    try:
        draft = _draft(
            product, reference=reference, ean13=ean13, languages=languages, id_manufacturer=id_manufacturer
        )
        found = _shop_lookup(client, reference=reference, ean13=ean13)
        if found.conflict:
            emit(describe(action=Action.CONFLICT, message=found.conflict))
            return ""
        action = Action.ADOPTED if found.id_product is not None else Action.CREATED
        id_ecommerce = found.id_product if found.id_product is not None else client.create_product(draft)
    except (ShopTransientError, ShopAuthError) as exc:
        emit(describe(action=Action.FAILED, message=str(exc)))
        if isinstance(exc, ShopAuthError):
            shop_refused_notify(shop=DEFAULT_SHOP, error=str(exc), what=_("importing products"))
        return f"the shop failed: {exc}"
    except (ShopError, ValueError) as exc:
        emit(describe(action=Action.FAILED, message=str(exc)))
        return ""
    problem = _product_link(product_id=product.pk, id_ecommerce=id_ecommerce, now=now or timezone.now())
    if problem:
        emit(describe(action=Action.CONFLICT, id_ecommerce=id_ecommerce, message=problem))
        return ""
    if id_manufacturer is None:
        result.without_manufacturer += 1
    logger.info("auto-import %s product %s as shop product %s", action, product.pk, id_ecommerce)
    emit(describe(action=action, id_ecommerce=id_ecommerce))
    return ""
