""" "Cron or scheduler silent": what /healthz knows, told to someone (workers check it regularly)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from genesys.health import check_cron, check_scheduler
from genesys.notifications.kinds import CRON_SILENT
from genesys.notifications.services import notification_send

# A worker that just started has seen no tick yet: it waits this long before judging.
GRACE_SECONDS = 180


def scheduling_silence_problems() -> list[str]:
    """Why scheduled work would not start now, in words an operator reads (empty: all is well)."""
    problems = []
    cron = check_cron()
    if not cron["ok"]:
        age = cron.get("last_tick_age_s")
        problems.append(
            _("the periodic tick (rqcron) last ran %(age)s s ago") % {"age": age}
            if age is not None
            else _("the periodic tick (rqcron) never ran")
        )
    scheduler = check_scheduler()
    if not all(scheduler["queues"].values()):
        missing = ", ".join(name for name, held in scheduler["queues"].items() if not held)
        problems.append(_("no RQ scheduler holds the queues %(queues)s") % {"queues": missing})
    if scheduler.get("overdue_scheduled_jobs"):
        problems.append(
            _("%(count)s delayed jobs are overdue") % {"count": scheduler["overdue_scheduled_jobs"]}
        )
    return problems


def scheduling_silence_notify(*, worker_age_seconds: float) -> bool:
    """Send "cron or scheduler silent" if scheduling stopped; True when something was wrong."""
    if worker_age_seconds < GRACE_SECONDS:
        return False
    problems = scheduling_silence_problems()
    if not problems:
        return False
    notification_send(
        kind=CRON_SILENT.code,
        subject=_("Scheduled jobs are not starting"),
        body=_("Genesys's scheduling is silent: %(problems)s. Ingests, syncs and maintenance "
               "wait until it is back; see /healthz and docs/workers.md.")
        % {"problems": "; ".join(problems)},
        link=reverse("healthz"),
        object_key="scheduling",
    )  # fmt: skip
    return True
