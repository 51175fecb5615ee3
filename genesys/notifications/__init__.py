"""Notifications to operators: ``notification_send`` (services), kinds declared by each app.

Apps declare their kinds in ``<app>/notifications.py`` with ``notification_kind_register``; the
genesys app imports every such module at start-up (as it does for job kinds).
"""

from genesys.notifications import kinds  # noqa: F401  (genesys's own kinds)
from genesys.notifications.registry import notification_kind_register, notification_kinds
from genesys.notifications.services import notification_send

__all__ = ["notification_kind_register", "notification_kinds", "notification_send"]
