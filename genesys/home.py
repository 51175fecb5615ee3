"""The admin home page: sections and "needs you" items each app registers, composed here.

Genesys imports no app, so each app contributes what it knows from its own ``home.py`` (found
by ``autodiscover_modules("home")`` at start-up): ``@home_section`` for a block of the page
(a template and the function that reads its data) and ``@home_needs`` for counted items of the
"needs you" list. Every contributor reads a fixed number of queries, whatever the number of
suppliers, products or runs, and returns None (or no items) for a user who may not view its
models. The index template renders what ``home_page_get`` returns, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from genesys.health import health_report


@dataclass(frozen=True)
class NeedItem:
    """One line of "needs you": what, how many, where to act on it."""

    key: str
    label: str
    count: int
    url: str
    order: int = 100


@dataclass(frozen=True)
class HomeSection:
    name: str
    order: int
    template: str
    read: Callable[[Any], dict[str, Any] | None]  # user -> the template's data, or None: not shown


@dataclass
class HomePage:
    needs: list[NeedItem] = field(default_factory=list)
    sections: list[dict[str, Any]] = field(default_factory=list)  # {"name", "template", "data"}

    @property
    def needs_total(self) -> int:
        return sum(item.count for item in self.needs)


_SECTIONS: dict[str, HomeSection] = {}
_NEEDS: dict[str, Callable[[Any], list[NeedItem]]] = {}


def home_section(name: str, *, order: int, template: str) -> Callable[[Callable], Callable]:
    """Register ``read(user) -> dict | None`` as the data of a block of the home page."""

    def register(read: Callable[[Any], dict[str, Any] | None]) -> Callable:
        _SECTIONS[name] = HomeSection(name=name, order=order, template=template, read=read)
        return read

    return register


def home_needs(name: str) -> Callable[[Callable], Callable]:
    """Register ``read(user) -> list[NeedItem]``: counted items of the "needs you" list."""

    def register(read: Callable[[Any], list[NeedItem]]) -> Callable:
        _NEEDS[name] = read
        return read

    return register


def home_page_get(*, user: Any) -> HomePage:
    """Everything the home page shows ``user``: the needs (most urgent first) and the sections."""
    page = HomePage()
    for read in _NEEDS.values():
        page.needs.extend(read(user))
    page.needs.sort(key=lambda item: (item.count == 0, item.order))
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        data = section.read(user)
        if data is not None:
            page.sections.append({"name": section.name, "template": section.template, "data": data})
    return page


# --- Genesys's own section: workers, queues, scheduler and cron ------------------------------

HEALTH_LABELS = {
    "database": gettext_lazy("Database"),
    "redis": gettext_lazy("Redis"),
    "workers": gettext_lazy("Workers"),
    "scheduler": gettext_lazy("Scheduler"),
    "cron": gettext_lazy("Cron (periodic tick)"),
    "stream": gettext_lazy("Shop update stream"),
    "recompute": gettext_lazy("Catalog step"),
}


def queues_depth() -> list[dict[str, Any]]:
    """Jobs waiting, running, scheduled and failed in each Genesys queue (Redis only)."""
    import django_rq

    rows = []
    for name in settings.GENESYS_QUEUES:
        try:
            queue = django_rq.get_queue(name)
            rows.append(
                {
                    "name": name,
                    "queued": queue.count,
                    "started": queue.started_job_registry.count,
                    "scheduled": queue.scheduled_job_registry.count,
                    "failed": queue.failed_job_registry.count,
                    "ok": True,
                }
            )
        except Exception as exc:  # Redis down: the health block says so; the page still renders
            rows.append({"name": name, "ok": False, "error": type(exc).__name__})
    return rows


@home_section("health", order=30, template="admin/home/health.html")
def health_section(user: Any) -> dict[str, Any] | None:
    """What /healthz knows, check by check, and the queues' depth."""
    if not user.has_perm("genesys.view_queues"):
        return None
    from genesys.jobs.ledger import workers_enabled

    report = health_report()
    checks = [
        {
            "name": name,
            "label": HEALTH_LABELS.get(name, name),
            "text": health_check_text(name, detail),
            **detail,
        }
        for name, detail in report["checks"].items()
    ]
    return {
        "healthy": report["healthy"],
        "checks": checks,
        "queues": queues_depth(),
        "workers_enabled": workers_enabled(),
        "kill_switch_url": reverse("admin:genesys_workerglobalconfig_changelist"),
    }


def health_check_text(name: str, detail: dict[str, Any]) -> str:
    """One line an operator reads for a check of /healthz (its JSON has the rest)."""
    if detail.get("error"):
        return str(detail["error"])
    if name == "workers":
        return ngettext("%(count)d worker alive", "%(count)d workers alive", detail.get("alive", 0)) % {
            "count": detail.get("alive", 0)
        }
    if name == "scheduler":
        missing = [queue for queue, held in (detail.get("queues") or {}).items() if not held]
        text = (
            _("no scheduler for: %(queues)s") % {"queues": ", ".join(missing)}
            if missing
            else _("every queue")
        )
        overdue = detail.get("overdue_scheduled_jobs") or 0
        if overdue:
            text += "; " + _("%(count)d delayed jobs overdue") % {"count": overdue}
        return str(text)
    if name == "cron":
        return _("last beat %(beat)s ago, last tick %(tick)s ago") % {
            "beat": age_text(detail.get("process_heartbeat_age_s")),
            "tick": age_text(detail.get("last_tick_age_s")),
        }
    if name == "stream":
        return _("oldest sendable update: %(age)s") % {"age": age_text(detail.get("oldest_pending_age_s"))}
    if name == "recompute":
        return _("%(count)s products waiting, the oldest for %(age)s") % {
            "count": detail.get("dirty_products", 0),
            "age": age_text(detail.get("oldest_dirty_age_s")),
        }
    return f"{detail.get('ms', '')} ms"


def age_text(seconds: float | None) -> str:
    """A duration an operator reads at a glance: "45 s", "12 min", "3 h", "2 d"; "—" unknown."""
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"
