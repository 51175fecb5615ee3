"""Operator decisions on prices the price-jump guard held (catalog.models.PriceApproval).

Approving lets exactly the proposed price through: the product is recomputed at once, and if
its offers still give that price, it goes to the shop through the update stream. Rejecting
holds the offer that caused it (``SupplierItem.hold_reason = price_rejected``) and re-elects the
product without it. Each decision and its recompute are one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import PriceApproval, PriceApprovalNotice
from catalog.notifications import APPROVAL_WAITING
from catalog.selectors import Offer
from catalog.services.offers import RECOMPUTE_MUTEX, Reason, active_offers_recompute
from genesys.db import transaction_mutex
from genesys.notifications import notification_send

logger = logging.getLogger(__name__)

Status = PriceApproval.Status
APPROVE_PERMISSION = "catalog.approve_prices"
NOTICE_MUTEX = "genesys:catalog:approval-notice"


@dataclass
class DecisionResult:
    decided: int = 0
    sent: int = 0  # approved prices now queued for the shop
    stream_rows: int = 0
    skipped: int = 0  # not pending any more (decided or superseded meanwhile)


def _pending_locked(approval_ids: Collection[int]) -> list[PriceApproval]:
    """The pending rows among these, locked. The recompute mutex comes first, in the order every
    recompute takes them (mutex, then rows), so a decision never deadlocks with a drain."""
    with connection.cursor() as cursor:
        transaction_mutex(name=RECOMPUTE_MUTEX, cursor=cursor)
    return list(
        PriceApproval.objects.select_for_update()
        .filter(id__in=list(approval_ids), status=Status.PENDING)
        .order_by("id")
    )


@transaction.atomic
def price_approvals_approve(*, approval_ids: Collection[int], user: str) -> DecisionResult:
    """Approve pending proposals and send their prices (if the offers still give them)."""
    rows = _pending_locked(approval_ids)
    result = DecisionResult(decided=len(rows), skipped=len(set(approval_ids)) - len(rows))
    if not rows:
        return result
    now = timezone.now()
    PriceApproval.objects.filter(id__in=[r.pk for r in rows]).update(
        status=Status.APPROVED, decided_by=user, decided_at=now, updated_at=now
    )
    recomputed = active_offers_recompute(
        product_ids=[r.product_id for r in rows], reason=Reason.PRICE_APPROVED, now=now
    )
    result.stream_rows = recomputed.stream_rows
    result.sent = PriceApproval.objects.filter(id__in=[r.pk for r in rows], applied_at__isnull=False).count()
    return result


@transaction.atomic
def price_approvals_approve_run(*, run_id: int, user: str) -> DecisionResult:
    """Approve every pending proposal of one feed run."""
    ids = list(
        PriceApproval.objects.filter(run_id=run_id, status=Status.PENDING).values_list("id", flat=True)
    )
    return price_approvals_approve(approval_ids=ids, user=user)


@transaction.atomic
def price_approvals_reject(*, approval_ids: Collection[int], user: str, reason: str) -> DecisionResult:
    """Reject pending proposals: hold their offers with the reason, re-elect without them."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a rejection needs a reason")
    rows = _pending_locked(approval_ids)
    result = DecisionResult(decided=len(rows), skipped=len(set(approval_ids)) - len(rows))
    if not rows:
        return result
    now = timezone.now()
    PriceApproval.objects.filter(id__in=[r.pk for r in rows]).update(
        status=Status.REJECTED, decided_by=user, decided_at=now, decision_note=reason, updated_at=now
    )
    note = _("Price %(price)s rejected by %(user)s: %(reason)s")
    for row in rows:
        if row.supplier_item_id is None:
            continue
        Offer.objects.filter(pk=row.supplier_item_id, hold_reason="").update(
            hold_reason=Offer.HoldReason.PRICE_REJECTED,
            hold_note=note % {"price": row.new_price, "user": user, "reason": reason},
            held_at=now,
        )
    recomputed = active_offers_recompute(
        product_ids=[r.product_id for r in rows], reason=Reason.PRICE_REJECTED, now=now
    )
    result.stream_rows = recomputed.stream_rows
    return result


@transaction.atomic
def rejected_offers_release(*, item_ids: Collection[int], user: str) -> int:
    """Let offers held for a rejected price compete again (the operator changed their mind, or
    the supplier corrected the price). The guard judges the offer's price afresh: a price that
    still jumps waits in the queue again instead of reaching the shop. Returns how many."""
    held = Offer.objects.filter(id__in=list(item_ids), hold_reason=Offer.HoldReason.PRICE_REJECTED).order_by(
        "id"
    )
    product_ids = list(held.values_list("product_id", flat=True))
    released = held.update(
        hold_reason=Offer.HoldReason.NONE,
        hold_note=_("rejected price released by %(user)s") % {"user": user[:150]},
        held_at=None,
    )
    if product_ids:
        active_offers_recompute(product_ids=product_ids, reason=Reason.MANUAL)
    return released


def approvers_emails() -> list[str]:
    """Staff users who may approve prices, then ADMINS and GENESYS_PRICE_APPROVAL_EMAILS."""
    users = (
        get_user_model()
        .objects.with_perm(
            APPROVE_PERMISSION,
            is_active=True,
            include_superusers=True,
            backend="django.contrib.auth.backends.ModelBackend",  # groups and user permissions
        )
        .filter(is_staff=True)
        .exclude(Q(email="") | Q(email__isnull=True))
    )
    addresses = [u.email for u in users.order_by("pk")]
    addresses += [address for _, address in settings.ADMINS]
    addresses += list(settings.GENESYS_PRICE_APPROVAL_EMAILS)
    return list(dict.fromkeys(addresses))


def price_approvals_notify(*, run_ids: Collection[int], now=None) -> PriceApprovalNotice | None:
    """Notify "prices waiting for approval" (approvers by email unless they chose otherwise) when
    a run put more than GENESYS_PRICE_APPROVAL_NOTIFY_ABOVE prices in the queue; at most once per
    GENESYS_PRICE_APPROVAL_NOTIFY_MINUTES (the home page always shows the count). Delivered after
    commit by the notify queue: a mail failure is recorded and retried, the queue stays."""
    now = now or timezone.now()
    threshold = settings.GENESYS_PRICE_APPROVAL_NOTIFY_ABOVE
    counts = {
        run_id: PriceApproval.objects.filter(run_id=run_id, status=Status.PENDING).count()
        for run_id in sorted(set(run_ids))
    }
    over = {run_id: count for run_id, count in counts.items() if count > threshold}
    if not over:
        return None
    run_id, count = max(over.items(), key=lambda item: item[1])
    window = timedelta(minutes=settings.GENESYS_PRICE_APPROVAL_NOTIFY_MINUTES)
    with transaction.atomic():
        with connection.cursor() as cursor:
            transaction_mutex(name=NOTICE_MUTEX, cursor=cursor)
        if PriceApprovalNotice.objects.filter(sent_at__gt=now - window).exists():
            return None
        total = PriceApproval.objects.filter(status=Status.PENDING).count()
        subject = ngettext(
            "%(count)d price waits for your approval", "%(count)d prices wait for your approval", total
        ) % {"count": total}
        body = _(
            "Feed run #%(run)s held %(count)s new prices back from the shop: they changed more than "
            "allowed or fell below the minimum margin. %(total)s prices wait in total.\n\n"
            "Until someone decides, the shop keeps each product's previous price (stock still "
            "updates)."
        ) % {"run": run_id, "count": count, "total": total}
        notification = notification_send(
            kind=APPROVAL_WAITING.code,
            subject=subject,
            body=body,
            link=reverse("admin:catalog_priceapproval_changelist") + "?status__exact=pending",
            object_key="price_approvals",
        )
        deliveries = notification.deliveries.filter(channel="email") if notification else []
        recipients = [delivery.recipients for delivery in deliveries]
        notice = PriceApprovalNotice.objects.create(run_id=run_id, pending=total,
                                                    recipients=sum(len(r) for r in recipients),
                                                    sent_at=now)  # fmt: skip
    if notice.recipients == 0:
        logger.warning("%d prices wait for approval and nobody has an email to be told", count)
    return notice
