"""Copy the shop's category tree and manufacturers into Genesys (``shop_reference_sync``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from catalog.models import Category
from catalog.models.taxonomy import CATEGORY_PATH_SEPARATOR
from catalog.normalize import name_normalize
from prestashop.models import PrestashopCategory, PrestashopManufacturer
from prestashop.types import ShopCategory, ShopClient, ShopManufacturer

# The shop's tables _upsert keeps (a constrained TypeVar: each keeps its own manager, objects).
_ShopRow = TypeVar("_ShopRow", PrestashopCategory, PrestashopManufacturer)

PS_CATEGORY_NAME_MAX = Category._meta.get_field("ps_category_name").max_length or 255


@dataclass
class ReferenceSyncResult:
    categories: int = 0
    categories_created: int = 0
    categories_changed: int = 0
    categories_removed: int = 0
    manufacturers: int = 0
    manufacturers_created: int = 0
    manufacturers_changed: int = 0
    manufacturers_removed: int = 0
    mapped_renamed: int = 0  # Genesys categories whose shop category name was refreshed
    mapped_unusable: int = 0  # Genesys categories mapped to a shop category that is gone or unknown


def shop_category_paths(categories: Sequence[ShopCategory]) -> dict[int, tuple[str, ...]]:
    """Names from the top level down for every category (pure).

    The walk up stops at Root and the home category (``is_root``) and at a parent the list does
    not have (the r_genesys module leaves both out), so top-level categories have one name and
    Root and home have none. A cycle in broken data stops the walk too.
    """
    by_id = {category.id: category for category in categories}
    paths: dict[int, tuple[str, ...]] = {}
    for category in categories:
        chain: list[ShopCategory] = []
        node: ShopCategory | None = category
        seen: set[int] = set()
        while node is not None and not node.is_root and node.id not in paths and node.id not in seen:
            seen.add(node.id)
            chain.append(node)
            node = by_id.get(node.parent_id)
        prefix = paths.get(node.id, ()) if node is not None and node.id not in seen else ()
        for link in reversed(chain):
            prefix = (*prefix, link.name.strip())
            paths[link.id] = prefix
        paths.setdefault(category.id, ())
    return paths


def _category_row(category: ShopCategory, path: tuple[str, ...], now: datetime) -> PrestashopCategory:
    full_path = CATEGORY_PATH_SEPARATOR.join(path) if path else category.name.strip()
    return PrestashopCategory(
        id=category.id,
        id_parent=category.parent_id,
        name=category.name.strip(),
        names={str(language): name for language, name in sorted(category.names.items())},
        depth=len(path),
        full_path=full_path[:1000],
        search_path=name_normalize(full_path)[:1000],
        active=category.active,
        is_root=category.is_root,
        synced_at=now,
        removed_at=None,
    )


def _manufacturer_row(manufacturer: ShopManufacturer, now: datetime) -> PrestashopManufacturer:
    name = manufacturer.name.strip()
    return PrestashopManufacturer(
        id=manufacturer.id,
        name=name,
        normalized_name=name_normalize(name),
        active=manufacturer.active,
        synced_at=now,
        removed_at=None,
    )


def _upsert(
    model: type[_ShopRow], rows: list[_ShopRow], fields: Sequence[str], now: datetime
) -> tuple[int, int, int]:
    """Store the shop's rows; rows the shop no longer lists become inactive, never deleted.

    Returns (created, changed, removed). The tables hold hundreds to a few thousand rows, so the
    current ones are compared in memory and only the differences are written.
    """
    stored = {row.pk: row for row in model.objects.all()}
    seen = [row.pk for row in rows]
    created = [row for row in rows if row.pk not in stored]
    changed = [
        row
        for row in rows
        if row.pk in stored
        and any(getattr(row, name) != getattr(stored[row.pk], name) for name in (*fields, "removed_at"))
    ]
    model.objects.bulk_create(created, batch_size=500)
    model.objects.bulk_update(changed, [*fields, "removed_at", "synced_at"], batch_size=500)
    model.objects.filter(id__any_of=seen).update(synced_at=now)
    removed = (
        model.objects.filter(removed_at__isnull=True)
        .exclude(id__any_of=seen)
        .update(active=False, removed_at=now)
    )
    return len(created), len(changed), removed


def _refresh_mapped_names() -> tuple[int, int]:
    """Rewrite ``ps_category_name`` of mapped Genesys categories from the shop's current paths."""
    mapped = list(
        Category.objects.filter(id_ps_category__isnull=False).only("id", "id_ps_category", "ps_category_name")
    )
    shop = PrestashopCategory.objects.in_bulk({category.id_ps_category for category in mapped})
    renamed, unusable = [], 0
    for category in mapped:
        target = shop.get(category.id_ps_category)
        if target is None or not target.usable:
            unusable += 1
            if target is None:
                continue
        name = target.full_path[:PS_CATEGORY_NAME_MAX]
        if category.ps_category_name != name:
            category.ps_category_name = name
            renamed.append(category)
    Category.objects.bulk_update(renamed, ["ps_category_name"], batch_size=500)
    return len(renamed), unusable


def shop_reference_sync(*, client: ShopClient, now: datetime | None = None) -> ReferenceSyncResult:
    """Read the shop's categories and manufacturers, store them, refresh the mapped names.

    The shop is read first (all pages), then everything is written in one transaction, so a
    failing read leaves the previous copy untouched.
    """
    categories = client.list_categories()
    manufacturers = client.list_manufacturers()
    now = now or timezone.now()
    paths = shop_category_paths(categories)
    category_rows = [_category_row(category, paths[category.id], now) for category in categories]
    manufacturer_rows = [_manufacturer_row(manufacturer, now) for manufacturer in manufacturers]
    result = ReferenceSyncResult(categories=len(category_rows), manufacturers=len(manufacturer_rows))
    with transaction.atomic():
        result.categories_created, result.categories_changed, result.categories_removed = _upsert(
            PrestashopCategory,
            category_rows,
            ("id_parent", "name", "names", "depth", "full_path", "search_path", "active", "is_root"),
            now,
        )
        result.manufacturers_created, result.manufacturers_changed, result.manufacturers_removed = _upsert(
            PrestashopManufacturer, manufacturer_rows, ("name", "normalized_name", "active"), now
        )
        result.mapped_renamed, result.mapped_unusable = _refresh_mapped_names()
    return result
