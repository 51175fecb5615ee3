from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from genesys.admin_tools import ReadOnlyAdmin, pretty_json, status_badge
from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.registry import job_spec, schedule_parse
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


class JobKindConfigForm(forms.ModelForm):
    class Meta:
        model = JobKindConfig
        fields = [
            "kind",
            "enabled",
            "max_concurrency",
            "retry_attempts",
            "retry_backoff_seconds",
            "timeout_seconds",
            "stale_after_seconds",
            "schedule",
        ]

    def clean_schedule(self) -> str:
        value = self.cleaned_data["schedule"].strip()
        try:
            schedule_parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return value

    def clean_retry_backoff_seconds(self) -> list[int]:
        value = self.cleaned_data["retry_backoff_seconds"]
        if not isinstance(value, list) or not all(isinstance(v, int) and v >= 0 for v in value):
            raise forms.ValidationError(_("A list of whole seconds, e.g. [60, 300, 900]."))
        return value


@admin.register(JobKindConfig)
class JobKindConfigAdmin(admin.ModelAdmin):
    form = JobKindConfigForm
    list_display = [*JobKindConfigForm.Meta.fields, "updated_at"]
    actions = ["run_now"]
    list_editable = ["enabled", "max_concurrency"]
    list_filter = ["enabled"]

    @admin.action(description=_("Run now"))
    def run_now(self, request: HttpRequest, queryset: Any) -> None:
        """Queue one job of each selected kind now (per-supplier ingests are run from Suppliers)."""
        queued, busy, per_key = [], [], []
        for config in queryset:
            if job_spec(config.kind).params_from_key is not None:
                per_key.append(config.kind)
                continue
            run = job_enqueue(kind=config.kind, triggered_by=f"admin:{request.user.get_username()}")
            (queued if run else busy).append(config.kind)
        if queued:
            self.message_user(request, _("Queued: %(kinds)s.") % {"kinds": ", ".join(queued)})
        if busy:
            self.message_user(
                request,
                _("Already queued or running: %(kinds)s.") % {"kinds": ", ".join(busy)},
                messages.WARNING,
            )
        if per_key:
            self.message_user(
                request,
                _("%(kinds)s run per supplier: use the supplier's 'Run ingest now'.")
                % {"kinds": ", ".join(per_key)},
                messages.WARNING,
            )


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
    readonly_fields = ["summary_pretty", "feed_runs_links"]

    def get_urls(self):
        urls = super().get_urls()
        return [
            path("<int:run_id>/log/", self.admin_site.admin_view(self.log_view), name="genesys_jobrun_log"),
            *urls,
        ]

    def log_view(self, request: HttpRequest, run_id: int) -> JsonResponse:
        """The run's log lines after ``after`` (an id), for the live terminal on the run page."""
        run = JobRun.objects.filter(pk=run_id).values("status").first()
        if run is None or not self.has_view_permission(request):
            return JsonResponse({"error": "not found"}, status=404)
        after = int(request.GET.get("after") or 0)
        lines = [
            {
                "id": line.pk,
                "stage": line.stage,
                "time": timezone.localtime(line.created_at).strftime("%H:%M:%S"),
                "message": line.message,
            }
            for line in JobRunLog.objects.filter(run_id=run_id, id__gt=after).order_by("id")[:500]
        ]
        return JsonResponse({"status": run["status"], "live": run["status"] in JobRun.ACTIVE, "lines": lines})

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

    @admin.display(description=_("feed runs"))
    def feed_runs_links(self, obj: JobRun) -> str:
        """The feed runs this job carried (an ingest has one per feed of the supplier)."""
        runs = list(obj.feed_runs.select_related("feed").order_by("id"))
        if not runs:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">#{} {}</a> ({})',
            (
                (
                    reverse("admin:procurement_feedrun_change", args=[run.pk]),
                    run.pk,
                    run.feed.name,
                    run.get_status_display(),
                )
                for run in runs
            ),
        )


@admin.register(JobRunLog)
class JobRunLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "run", "stage", "message"]
    list_filter = ["stage"]
    ordering = ["-id"]
    list_select_related = ["run"]
    search_fields = ["message", "run__key"]
