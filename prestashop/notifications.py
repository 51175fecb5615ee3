"""The prestashop app's notification kinds, and the calls its services make."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from genesys.notifications import notification_kind_register, notification_send

SHOP_REFUSED = notification_kind_register(
    "shop_refused",
    label=gettext_lazy("Shop refused the key"),
    description=gettext_lazy(
        "The shop answered 401/403: the API key is wrong or lacks a permission; nothing is sent."
    ),
)


def shop_refused_notify(*, shop: str, error: str, what: str) -> None:
    """The shop refused Genesys's key (authentication or permissions): updates wait for a fix."""
    notification_send(
        kind=SHOP_REFUSED.code,
        subject=_("The shop %(shop)s refused Genesys's key") % {"shop": shop},
        body=_("While %(what)s, the shop answered: %(error)s. Check PRESTASHOP_API_KEY and the key's "
               "permissions in the shop's Webservice settings; updates wait and are sent once it "
               "accepts the key.") % {"what": what, "error": error[:500]},
        link=reverse("admin:catalog_catalogupdatestream_changelist"),
        object_key=f"shop:{shop}",
    )  # fmt: skip
