"""Admin building blocks shared by the apps."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
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
