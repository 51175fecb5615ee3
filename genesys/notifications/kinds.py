"""The notification kinds of the job framework itself (the apps declare theirs)."""

from django.utils.translation import gettext_lazy as _

from genesys.notifications.registry import notification_kind_register

RUN_FAILED = notification_kind_register(
    "run_failed",
    label=_("Run failed"),
    description=_("A job failed on its last attempt (or was abandoned): nothing retries it."),
)
CRON_SILENT = notification_kind_register(
    "cron_silent",
    label=_("Cron or scheduler silent"),
    description=_("The periodic tick or RQ's scheduler stopped: nothing scheduled starts."),
)
DIGEST = notification_kind_register("digest", label=_("Daily digest"), subscribable=False)
