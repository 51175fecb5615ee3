"""The catalog app's notification kinds, and the calls its services make."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from genesys.notifications import notification_kind_register, notification_send


def _approvers() -> list[str]:
    from catalog.services.approvals import approvers_emails

    return approvers_emails()


APPROVAL_WAITING = notification_kind_register(
    "approval_waiting",
    label=gettext_lazy("Prices waiting for approval"),
    description=gettext_lazy("A run held more prices than GENESYS_PRICE_APPROVAL_NOTIFY_ABOVE for approval."),
    default_recipients=_approvers,
)
PARKED_ROWS = notification_kind_register(
    "parked_rows",
    label=gettext_lazy("Shop updates parked"),
    description=gettext_lazy("More shop updates than GENESYS_NOTIFY_PARKED_ABOVE failed for good."),
)


def parked_rows_notify(*, shop: str, parked: int) -> bool:
    """Above the threshold, tell the subscribers; True if a notification was recorded."""
    if parked <= settings.GENESYS_NOTIFY_PARKED_ABOVE:
        return False
    notification_send(
        kind=PARKED_ROWS.code,
        subject=ngettext(
            "%(count)d shop update is parked", "%(count)d shop updates are parked", parked
        ) % {"count": parked},
        body=_("%(count)s updates for the shop %(shop)s failed for good and wait for an operator: "
               "retry them once the cause is fixed.") % {"count": parked, "shop": shop},
        link=reverse("admin:catalog_catalogupdatestream_changelist") + "?status__exact=failed",
        object_key=f"parked:{shop}",
    )  # fmt: skip
    return True
