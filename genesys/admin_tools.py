"""Admin building blocks shared by the apps."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records operators inspect but never edit (runs, events, offers, the stream)."""

    show_full_result_count = False  # COUNT(*) over millions of rows on every page is wasteful

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def pretty_json(value: Any) -> str:
    """Render JSON readably in a read-only field (escaped)."""
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False, default=str),
    )


def status_badge(value: str, label: str) -> str:
    colours = {
        "success": "#2e7d32",
        "done": "#2e7d32",
        "warning": "#ef6c00",
        "skipped": "#757575",
        "queued": "#1565c0",
        "scheduled": "#00838f",
        "pending": "#1565c0",
        "running": "#6a1b9a",
        "processing": "#6a1b9a",
        "failed": "#c62828",
        "abandoned": "#c62828",
        "cancelled": "#5d4037",
    }
    return format_html(
        '<span style="color: #fff; background: {}; padding: 1px 6px; border-radius: 8px">{}</span>',
        colours.get(value, "#455a64"),
        label,
    )


EMPTY = _("—")


def moment_short(moment: datetime, *, now: datetime | None = None) -> str:
    """ "14:00" today, "03/12 14:00" another day, in the local time zone."""
    local, today = timezone.localtime(moment), timezone.localtime(now or timezone.now())
    return local.strftime("%H:%M") if local.date() == today.date() else local.strftime("%d/%m %H:%M")


def job_status_badge(
    *, status: str, label: str, scheduled_for: datetime | None, now: datetime | None = None
) -> str:
    """A run's status; a queued run whose time has not come is "scheduled for 14:00", not queued
    (it is not stuck: it waits for its time)."""
    now = now or timezone.now()
    if status == "queued" and scheduled_for is not None and scheduled_for > now:
        text = gettext("Scheduled for %(time)s") % {"time": moment_short(scheduled_for, now=now)}
        return status_badge("scheduled", text)
    return status_badge(status, label)


def progress_text(progress: dict[str, Any] | None, *, now: datetime | None = None) -> str:
    """ "42 %, ends about 14:05" from a run's progress record; "" when the size is not known."""
    if not progress or progress.get("percent") is None:
        return ""
    text = f"{progress['percent']:.0f} %"
    eta = progress.get("eta")
    if eta:
        end = datetime.fromisoformat(eta)
        text += ", " + gettext("ends about %(time)s") % {"time": moment_short(end, now=now)}
    return text
