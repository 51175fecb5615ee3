"""Offer holds decided while a chunk is written: identity conflicts and price outliers.

Runs in the chunk's transaction, after its offers are written, with a fixed number of statements
whatever the chunk size: the feed's offers of the chunk's products (so a group sees SKUs of
earlier chunks and earlier runs), their conflict records, and the other suppliers' costs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from catalog.conf import identity_thresholds, outlier_factor, outlier_release_tolerance
from catalog.policies.identity import IdentityRow, identity_conflicts, identity_signature, price_outlier
from genesys.db import PlainValues, bulk_update
from procurement.models import IdentityConflict, SupplierItem
from procurement.sql import STAGE_TABLE

if TYPE_CHECKING:
    from procurement.services.ingest_writer import ChunkOutcome, IngestWriter

Hold = SupplierItem.HoldReason
Status = IdentityConflict.Status
# An identity conflict replaces these holds (an operator's rejection stays as it is).
_IDENTITY_REPLACES = (Hold.NONE, Hold.PRICE_OUTLIER)


@dataclass(frozen=True, slots=True)
class _Member:
    item_id: int
    sku: str
    product_id: int
    name: str
    price: Decimal
    gtin_raw: str
    partnumber: str
    hold_reason: str
    released_price: Decimal | None


def holds_apply(*, writer: IngestWriter, skus: Sequence[str], outcome: ChunkOutcome) -> None:
    """Hold or release the offers just written (``skus``, still in the staging table) and their
    group's, for conflicts and outliers.

    Only what can matter is read: the offers of products this feed offers under several SKUs (or
    that hold an identity conflict), and the written offers of products other suppliers offer.
    """
    feed_id = writer.feed.pk
    product_ids = RawSQL(f"SELECT product_id FROM {STAGE_TABLE}", ())  # noqa: S608, S611  (a constant)
    grouped = list(
        SupplierItem.objects.filter(feed_id=feed_id, product_id__in=product_ids)
        .order_by()
        .values("product_id")
        .annotate(offers=Count("id"), held=Count("id", filter=Q(hold_reason=Hold.IDENTITY_CONFLICT)))
        .filter(Q(offers__gt=1) | Q(held__gt=0))
        .values_list("product_id", flat=True)
    )
    members = _members_load(feed_id=feed_id, where=Q(product_id__any_of=grouped)) if grouped else {}
    conflicted, released = _identity_check(writer=writer, members=members, outcome=outcome)
    others = _other_costs(writer=writer, product_ids=product_ids)
    # Written offers another supplier competes with, and held outliers that may have no rival left.
    rivals = Q(product_id__any_of=PlainValues(others)) | Q(hold_reason=Hold.PRICE_OUTLIER)
    where = Q(sku__any_of=PlainValues(skus)) & rivals
    candidates = [
        replace(member, hold_reason=Hold.NONE) if member.item_id in released else member
        for group in _members_load(feed_id=feed_id, where=where).values()
        for member in group
        if member.product_id not in conflicted
    ]
    _outliers_check(writer=writer, candidates=candidates, others=others, outcome=outcome)


def _members_load(*, feed_id: int, where: Q) -> dict[int, list[_Member]]:
    found = (
        SupplierItem.objects.filter(where, feed_id=feed_id)
        .order_by("id")
        .values_list(
            "id",
            "sku",
            "product_id",
            "name_raw",
            "price",
            "gtin_raw",
            "partnumber_raw",
            "hold_reason",
            "hold_released_price",
        )
    )
    groups: dict[int, list[_Member]] = defaultdict(list)
    for values in found:
        member = _Member(*values)
        groups[member.product_id].append(member)
    return groups


def _other_costs(*, writer: IngestWriter, product_ids: RawSQL) -> dict[int, list[Decimal]]:
    """The costs other suppliers offer these products at (active, not on hold, above zero)."""
    found = (
        SupplierItem.objects.filter(
            product_id__in=product_ids,
            hold_reason="",
            price__gt=0,
            supplier__is_active=True,
            feed__is_active=True,
        )
        .exclude(supplier_id=writer.feed.supplier_id)
        .order_by()
        .values_list("product_id", "price")
    )
    others: dict[int, list[Decimal]] = defaultdict(list)
    for product_id, price in found:
        others[product_id].append(price)
    return others


def _identity_check(
    *, writer: IngestWriter, members: dict[int, list[_Member]], outcome: ChunkOutcome
) -> tuple[set[int], set[int]]:
    """Hold every offer of a disagreeing group; release a group that agrees again. Returns the
    products whose offers stay held for a conflict, and the offers released."""
    thresholds = identity_thresholds()
    reasons_of: dict[int, list[str]] = {}
    for product_id, group in members.items():
        if len(group) > 1:
            rows = [IdentityRow(m.sku, m.name, m.price, m.gtin_raw, m.partnumber) for m in group]
            found = identity_conflicts(rows, thresholds=thresholds)
            if found:
                reasons_of[product_id] = found
    watched = set(reasons_of) | {
        pid for pid, group in members.items() if any(m.hold_reason == Hold.IDENTITY_CONFLICT for m in group)
    }
    if not watched:
        return set(), set()
    # Locked: an operator's decision meanwhile is never overwritten by a stale read (the admin
    # never waits on these locks, so no deadlock with it: procurement.services.identity).
    records = {
        record.product_id: record
        for record in IdentityConflict.objects.select_for_update()
        .filter(feed_id=writer.feed.pk, product_id__any_of=list(watched))
        .order_by("id")
    }
    held: set[int] = set()
    to_create: list[IdentityConflict] = []
    to_update: list[IdentityConflict] = []
    for product_id in sorted(watched):
        record = records.get(product_id)
        reasons = reasons_of.get(product_id)
        skus = identity_signature([m.sku for m in members[product_id]])
        if (
            reasons
            and record is not None
            and record.status == Status.ACCEPTED
            and set(skus) <= set(record.skus)
        ):
            reasons = None  # an operator merged exactly these SKUs (or some of them) anyway
        if not reasons:
            if record is not None and record.status in (Status.OPEN, Status.IGNORED):
                record.status, record.resolved_at, record.resolved_by = Status.CLEARED, writer.now, ""
                to_update.append(record)
            continue
        held.add(product_id)
        if record is None:
            record = IdentityConflict(feed_id=writer.feed.pk, product_id=product_id, detected_at=writer.now)
        elif record.status == Status.IGNORED and set(skus) <= set(record.skus):
            pass  # dismissed by an operator: stays held, off the to-do list
        elif record.status != Status.OPEN:  # a new disagreement after a decision: review again
            record.status, record.detected_at, record.resolved_at, record.resolved_by = (
                Status.OPEN,
                writer.now,
                None,
                "",
            )
        if record.status == Status.OPEN:
            outcome.identity_conflict_product_ids.add(product_id)
        record.skus, record.reasons, record.run_id = skus, reasons, writer.run.pk
        (to_create if record.pk is None else to_update).append(record)
    IdentityConflict.objects.bulk_create(to_create)
    IdentityConflict.objects.bulk_update(
        to_update, ["status", "skus", "reasons", "run", "detected_at", "resolved_at", "resolved_by"]
    )
    hold = [m.item_id for pid in held for m in members[pid] if m.hold_reason in _IDENTITY_REPLACES]
    release = [
        m.item_id for pid in watched - held for m in members[pid] if m.hold_reason == Hold.IDENTITY_CONFLICT
    ]
    if hold:
        SupplierItem.objects.filter(id__any_of=hold).update(
            hold_reason=Hold.IDENTITY_CONFLICT, hold_note="", held_at=writer.now
        )
    if release:
        SupplierItem.objects.filter(id__any_of=release, hold_reason=Hold.IDENTITY_CONFLICT).update(
            hold_reason=Hold.NONE, hold_note="", held_at=None
        )
    changed = set(hold) | set(release)
    outcome.affected_product_ids.update(
        m.product_id for pid in watched for m in members[pid] if m.item_id in changed
    )
    return held, set(release)


def _outliers_check(
    *,
    writer: IngestWriter,
    candidates: list[_Member],
    others: dict[int, list[Decimal]],
    outcome: ChunkOutcome,
) -> None:
    """Hold a cost far below the other suppliers' offers of its product; release one that is not
    (any more), or that an operator released at about this cost."""
    candidates = [m for m in candidates if m.hold_reason in (Hold.NONE, Hold.PRICE_OUTLIER)]
    if not candidates:
        return
    factor, tolerance = outlier_factor(), outlier_release_tolerance()
    hold: list[tuple[int, str, str, object]] = []
    release: list[int] = []
    for member in candidates:
        costs = others.get(member.product_id, [])
        middle = price_outlier(
            price=member.price,
            others=costs,
            factor=factor,
            released_price=member.released_price,
            release_tolerance=tolerance,
        )
        if middle is not None:
            note = _(
                "cost %(cost)s is below the median %(median)s of %(count)s other offers divided by %(factor)s"
            ) % {
                "cost": f"{member.price.normalize():f}",
                "median": f"{middle.quantize(Decimal('0.01')):f}",
                "count": len(costs),
                "factor": f"{factor.normalize():f}",
            }
            hold.append((member.item_id, Hold.PRICE_OUTLIER, note, writer.now))
            if member.hold_reason != Hold.PRICE_OUTLIER:
                outcome.price_outlier_item_ids.add(member.item_id)
        elif member.hold_reason == Hold.PRICE_OUTLIER:
            release.append(member.item_id)
        else:
            continue
        outcome.affected_product_ids.add(member.product_id)
    if hold:
        with connection.cursor() as cursor:
            bulk_update(
                table=SupplierItem._meta.db_table,
                key=("id", "bigint"),
                columns=[("hold_reason", "text"), ("hold_note", "text"), ("held_at", "timestamptz")],
                rows=hold,
                cursor=cursor,
            )
    if release:
        SupplierItem.objects.filter(id__any_of=release, hold_reason=Hold.PRICE_OUTLIER).update(
            hold_reason=Hold.NONE, hold_note="", held_at=None
        )
