"""Import and export supplier configurations (suppliers, feeds, mapper profiles) as JSON.

The format is documented in docs/suppliers-json.md. Credentials are environment-variable names,
so an exported file can be committed to version control.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.services.dirty import products_mark_dirty
from procurement.feeds.options import feed_settings_parse
from procurement.feeds.profile import profile_problems
from procurement.feeds.source_url import url_credentials_find, url_without_credentials
from procurement.models import FeedMapper, Supplier, SupplierFeed, SupplierItem

SUPPLIER_FIELDS = (
    "margin",
    "priority",
    "is_active",
    "ingest_enabled",
    "ingest_interval_minutes",
    *Supplier.LANDED_COST_FIELDS,
)
FEED_FIELDS = SupplierFeed.SETTINGS_FIELDS
_DECIMAL_FIELDS = {"margin", "unseen_min_ratio", "vat_rate", *Supplier.LANDED_COST_FIELDS} - {
    "shipping_weight_table"
}
_FEED_PRICING_FIELDS = ("currency", "prices_include_vat", "vat_rate")


class ConfigImportError(ValueError):
    """The file is not a valid configuration; ``errors`` lists every problem with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class ImportSummary:
    suppliers_created: int = 0
    suppliers_updated: int = 0
    feeds_created: int = 0
    feeds_updated: int = 0
    mappers_saved: int = 0
    names: list[str] = field(default_factory=list)
    suppliers_kept: int = 0  # left as they were (the demo never overwrites an operator's changes)


def _decimal(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value  # full_clean reports it with the field name


def _validation_messages(path: str, exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [f"{path}.{name}: {msg}" for name, msgs in exc.message_dict.items() for msg in msgs]
    return [f"{path}: {msg}" for msg in exc.messages]


@transaction.atomic
def suppliers_import(*, data: Any) -> ImportSummary:
    """Create or update suppliers, their feeds and active mappers, all or nothing.

    Suppliers match by name, feeds by (supplier, name); the mapper in the file becomes the feed's
    active mapper (the previous active one is kept, deactivated, for history).
    """
    if not isinstance(data, dict) or not isinstance(data.get("suppliers"), list):
        raise ConfigImportError(['the file must be an object with a "suppliers" list'])
    errors: list[str] = []
    summary = ImportSummary()
    for s_index, s_data in enumerate(data["suppliers"]):
        s_path = f"suppliers[{s_index}]"
        if not isinstance(s_data, dict) or not str(s_data.get("name") or "").strip():
            errors.append(f"{s_path}: must be an object with a name")
            continue
        unknown = set(s_data) - {"name", "feeds", *SUPPLIER_FIELDS}
        if unknown:
            errors.append(f"{s_path}: unknown keys {', '.join(sorted(unknown))}")
            continue
        supplier = Supplier.objects.filter(name=s_data["name"].strip()).first()
        created = supplier is None
        supplier = supplier or Supplier(name=s_data["name"].strip())
        landed_before = [getattr(supplier, name) for name in Supplier.LANDED_COST_FIELDS]
        for name in SUPPLIER_FIELDS:
            if name in s_data:
                setattr(supplier, name, _decimal(s_data[name]) if name in _DECIMAL_FIELDS else s_data[name])
        try:
            supplier.full_clean(validate_unique=False)
        except ValidationError as exc:
            errors.extend(_validation_messages(s_path, exc))
            continue
        supplier.save()
        if not created and landed_before != [getattr(supplier, name) for name in Supplier.LANDED_COST_FIELDS]:
            _offers_mark_dirty(supplier_id=supplier.pk)
        summary.names.append(supplier.name)
        if created:
            summary.suppliers_created += 1
        else:
            summary.suppliers_updated += 1
        for f_index, f_data in enumerate(s_data.get("feeds") or []):
            errors.extend(_import_feed(supplier, f_data, f"{s_path}.feeds[{f_index}]", summary))
    if errors:
        transaction.set_rollback(True)
        raise ConfigImportError(errors)
    return summary


def _import_feed(supplier: Supplier, f_data: Any, path: str, summary: ImportSummary) -> list[str]:
    if not isinstance(f_data, dict) or not str(f_data.get("name") or "").strip():
        return [f"{path}: must be an object with a name"]
    unknown = set(f_data) - {"name", "mapper", *FEED_FIELDS}
    if unknown:
        return [f"{path}: unknown keys {', '.join(sorted(unknown))}"]
    feed = SupplierFeed.objects.filter(supplier=supplier, name=f_data["name"].strip()).first()
    created = feed is None
    feed = feed or SupplierFeed(supplier=supplier, name=f_data["name"].strip())
    pricing_before = [getattr(feed, name) for name in _FEED_PRICING_FIELDS]
    for name in FEED_FIELDS:
        if name in f_data:
            setattr(feed, name, _decimal(f_data[name]) if name in _DECIMAL_FIELDS else f_data[name])
    try:
        feed.full_clean(validate_unique=False)
        feed_settings_parse(
            format=feed.format, format_options=feed.format_options, pagination=feed.pagination
        )
    except ValidationError as exc:
        return _validation_messages(path, exc)
    mapper_data = f_data.get("mapper")
    if mapper_data is not None:
        if not isinstance(mapper_data, dict) or not isinstance(mapper_data.get("profile"), dict):
            return [f"{path}.mapper: must be an object with a profile object"]
        problems = profile_problems(mapper_data["profile"])
        if problems:
            return [f"{path}.mapper.profile: {problem}" for problem in problems]
    feed.save()
    if not created and pricing_before != [getattr(feed, name) for name in _FEED_PRICING_FIELDS]:
        _offers_mark_dirty(feed_id=feed.pk)
    if created:
        summary.feeds_created += 1
    else:
        summary.feeds_updated += 1
    if mapper_data is None:
        return []
    name = str(mapper_data.get("name") or "default")
    FeedMapper.objects.filter(feed=feed, is_active=True).exclude(name=name).update(is_active=False)
    FeedMapper.objects.update_or_create(
        feed=feed, name=name, defaults={"profile": mapper_data["profile"], "is_active": True}
    )
    summary.mappers_saved += 1
    return []


def _offers_mark_dirty(**offer_filter: int) -> None:
    """Landed-cost terms changed: the products of these offers are recomputed by the sweep."""
    ids = SupplierItem.objects.filter(**offer_filter).values_list("product_id", flat=True).distinct()
    products_mark_dirty(product_ids=ids.iterator())


def suppliers_export() -> dict[str, Any]:
    """Every supplier with its feeds and active mapper, in the import format."""
    suppliers = Supplier.objects.prefetch_related("feeds__mappers").order_by("name")
    result = []
    for supplier in suppliers:
        s_data: dict[str, Any] = {"name": supplier.name}
        for name in SUPPLIER_FIELDS:
            value = getattr(supplier, name)
            s_data[name] = str(value) if isinstance(value, Decimal) else value
        s_data["feeds"] = []
        for feed in sorted(supplier.feeds.all(), key=lambda f: f.name):
            f_data: dict[str, Any] = {"name": feed.name}
            for name in FEED_FIELDS:
                value = getattr(feed, name)
                if name == "source_url" and url_credentials_find(value):
                    value = url_without_credentials(value)  # saving refuses them; never export one
                f_data[name] = str(value) if isinstance(value, Decimal) else value
            active = next((m for m in feed.mappers.all() if m.is_active), None)
            if active is not None:
                f_data["mapper"] = {"name": active.name, "profile": active.profile}
            s_data["feeds"].append(f_data)
        result.append(s_data)
    return {"suppliers": result}
