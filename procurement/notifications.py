"""The procurement app's notification kinds, and the calls its services make."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from genesys.notifications import notification_kind_register, notification_send

GUARD_SKIPPED = notification_kind_register(
    "guard_skipped",
    label=gettext_lazy("Unseen guard skipped"),
    description=gettext_lazy(
        "An ingest read far fewer rows than usual, so missing offers were not set to stock 0."
    ),
)


def guard_skipped_notify(*, feed, run, reason: str) -> None:
    """The unseen guard kept missing offers in stock: someone should look at the feed."""
    notification_send(
        kind=GUARD_SKIPPED.code,
        subject=_("%(feed)s: missing offers were not zeroed") % {"feed": feed},
        body=_("Feed run #%(run)s of %(feed)s: %(reason)s. Their stock stays as it was until a "
               "complete feed arrives or someone forces the step.") % {"run": run.pk, "feed": feed,
                                                                       "reason": reason},
        link=reverse("admin:procurement_feedrun_change", args=[run.pk]),
        object_key=f"feed:{feed.pk}",
    )  # fmt: skip
