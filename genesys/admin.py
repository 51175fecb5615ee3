from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from genesys.admin_tools import ReadOnlyAdmin, ReadOnlyInline, pretty_json, status_badge
from genesys.models import JobKindConfig, JobRun, JobRunLog, WorkerGlobalConfig

admin.site.site_header = _("Genesys")
admin.site.site_title = _("Genesys")
admin.site.index_title = _("Back office")


@admin.register(WorkerGlobalConfig)
class WorkerGlobalConfigAdmin(admin.ModelAdmin):
    list_display = ["__str__", "workers_enabled", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not WorkerGlobalConfig.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: WorkerGlobalConfig, form: Any, change: bool) -> None:
        obj.pk = 1
        obj.updated_by = request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(JobKindConfig)
class JobKindConfigAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "enabled",
        "max_concurrency",
        "retry_attempts",
        "retry_backoff_seconds",
        "timeout_seconds",
        "stale_after_seconds",
        "schedule",
        "updated_at",
    ]
    list_editable = ["enabled", "max_concurrency"]
    list_filter = ["enabled"]


class JobRunLogInline(ReadOnlyInline):
    model = JobRunLog
    ordering = ["id"]
    fields = ["created_at", "stage", "message"]
    readonly_fields = fields
    show_change_link = False


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "key",
        "status_label",
        "attempt",
        "created_at",
        "started_at",
        "duration",
        "worker_name",
    ]
    list_filter = ["kind", "status"]
    ordering = ["-created_at", "-id"]
    search_fields = ["key", "rq_job_id", "error"]
    date_hierarchy = "created_at"
    exclude = ["summary"]
    readonly_fields = ["summary_pretty"]
    inlines = [JobRunLogInline]

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: JobRun) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=_("duration (s)"))
    def duration(self, obj: JobRun) -> Any:
        seconds = obj.duration_seconds
        return None if seconds is None else round(seconds, 1)

    @admin.display(description=_("summary"))
    def summary_pretty(self, obj: JobRun) -> str:
        return pretty_json(obj.summary)


@admin.register(JobRunLog)
class JobRunLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "run", "stage", "message"]
    list_filter = ["stage"]
    ordering = ["-id"]
    list_select_related = ["run"]
    search_fields = ["message", "run__key"]
