from __future__ import annotations

import hmac
from functools import wraps
from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard

from genesys.admin_tools import ReadOnlyAdmin, job_status_badge, pretty_json, progress_text
from genesys.jobs.enqueue import job_enqueue
from genesys.jobs.ledger import kill_switch_set, workers_enabled
from genesys.jobs.registry import job_spec, schedule_parse
from genesys.jobs.requests import JobNotCancellable, job_run_cancel
from genesys.jobs.selectors import run_log_page
from genesys.models import JobKindConfig, JobRun, JobRunLog, KillSwitchChange, WorkerGlobalConfig

admin.site.site_header = _("Genesys")
admin.site.site_title = _("Genesys")
admin.site.index_title = _("Back office")


@admin.register(WorkerGlobalConfig)
class WorkerGlobalConfigAdmin(admin.ModelAdmin):
    """The kill switch as one page: its state, who changed it and when, a button to flip it."""

    list_display = ["__str__", "workers_enabled", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]
    KILL_SWITCH_HISTORY = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The row is created once (by whoever first flips the switch); both need the switch's
        # own permission on top of the model one.
        return (
            super().has_add_permission(request)
            and request.user.has_perm("genesys.toggle_killswitch")  # type: ignore[union-attr]
            and not WorkerGlobalConfig.objects.exists()
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and request.user.has_perm(  # type: ignore[union-attr]
            "genesys.toggle_killswitch"
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: WorkerGlobalConfig, form: Any, change: bool) -> None:
        kill_switch_set(enabled=obj.workers_enabled, by=request.user.get_username())
        obj.pk = 1
        obj.refresh_from_db()

    def _may_toggle(self, request: HttpRequest) -> bool:
        return request.user.has_perm("genesys.toggle_killswitch") and (  # type: ignore[union-attr]
            self.has_change_permission(request) or super().has_add_permission(request)
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self._may_toggle(request):
                raise PermissionDenied
            wanted = request.POST.get("workers_enabled")
            if wanted not in ("on", "off"):
                return HttpResponseRedirect(request.path)
            kill_switch_set(
                enabled=wanted == "on",
                by=request.user.get_username(),
                note=request.POST.get("note", "").strip(),
            )
            if wanted == "on":
                self.message_user(request, _("Workers enabled: jobs run again."), messages.SUCCESS)
            else:
                self.message_user(
                    request,
                    _(
                        "Kill switch on: no job runs until it is turned off "
                        "(jobs are skipped and rescheduled)."
                    ),
                    messages.WARNING,
                )
            return HttpResponseRedirect(request.path)
        config = WorkerGlobalConfig.objects.filter(pk=1).first()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Kill switch"),
            "opts": self.model._meta,
            "enabled": workers_enabled(),
            "config": config,
            "history": KillSwitchChange.objects.order_by("-changed_at", "-id")[: self.KILL_SWITCH_HISTORY],
            "may_toggle": self._may_toggle(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/genesys/killswitch.html", context)


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

    def has_run_jobs_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("genesys.run_jobs")  # type: ignore[union-attr]

    list_filter = ["enabled"]

    @admin.action(description=_("Run now"), permissions=["run_jobs"])
    def run_now(self, request: HttpRequest, queryset: Any) -> None:
        """Queue one job of each selected kind now (per-supplier ingests are run from Suppliers)."""
        queued: list[str] = []
        busy: list[str] = []
        per_key: list[str] = []
        for config in queryset:
            if job_spec(config.kind).params_from_key is not None:
                per_key.append(config.kind)
                continue
            # An operator's "Run now" is urgent: workers take it before scheduled work.
            run = job_enqueue(
                kind=config.kind,
                triggered_by=f"admin:{request.user.get_username()}",
                priority=JobRun.Priority.URGENT,
            )
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
        "priority",
        "progress_label",
        "attempt",
        "created_at",
        "started_at",
        "duration",
        "worker_name",
    ]
    list_filter = ["kind", "status", "priority"]
    ordering = ["-created_at", "-id"]
    search_fields = ["key", "rq_job_id", "error"]
    date_hierarchy = "created_at"
    exclude = ["summary", "progress"]
    readonly_fields = ["status_label", "progress_label", "summary_pretty", "feed_runs_links"]
    actions = ["cancel_runs"]

    def has_cancel_jobs_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("genesys.cancel_jobs")  # type: ignore[union-attr]

    @admin.action(description=_("Cancel"), permissions=["cancel_jobs"])
    def cancel_runs(self, request: HttpRequest, queryset: Any) -> None:
        """Cancel the selected runs: queued ones at once, running ones at their next safe point."""
        by = f"admin:{request.user.get_username()}"
        cancelled: list[str] = []
        stopping: list[str] = []
        ended: list[str] = []
        for run_id in queryset.values_list("pk", flat=True):
            try:
                run = job_run_cancel(run_id=run_id, by=by)
            except (JobNotCancellable, JobRun.DoesNotExist):
                ended.append(str(run_id))
                continue
            (cancelled if run.status == JobRun.Status.CANCELLED else stopping).append(str(run_id))
        if cancelled:
            self.message_user(request, _("Cancelled: runs %(ids)s.") % {"ids": ", ".join(cancelled)})
        if stopping:
            self.message_user(
                request,
                _("Asked to stop: runs %(ids)s (they end cancelled at their next safe point).")
                % {"ids": ", ".join(stopping)},
            )
        if ended:
            self.message_user(
                request,
                _("Already ended, nothing to cancel: runs %(ids)s.") % {"ids": ", ".join(ended)},
                messages.WARNING,
            )

    def get_urls(self):
        urls = super().get_urls()
        return [
            path("<int:run_id>/log/", self.admin_site.admin_view(self.log_view), name="genesys_jobrun_log"),
            *urls,
        ]

    def log_view(self, request: HttpRequest, run_id: int) -> JsonResponse:
        """The run's log lines after ``after`` (an id), for the live terminal on the run page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = JobRun.objects.filter(pk=run_id).values("status", "progress").first()
        if run is None:
            return JsonResponse({"error": "not found"}, status=404)
        after = int(request.GET.get("after") or 0)
        lines = [
            {
                "id": line.pk,
                "stage": line.stage,
                "time": timezone.localtime(line.created_at).strftime("%H:%M:%S"),
                "message": line.message,
            }
            for line in run_log_page(run_id=run_id, after=after, limit=500)
        ]
        live = run["status"] in JobRun.ACTIVE
        return JsonResponse(
            {
                "status": run["status"],
                "live": live,
                "progress": progress_text(run["progress"]) if live else "",
                "lines": lines,
            }
        )

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: JobRun) -> str:
        return job_status_badge(
            status=obj.status, label=obj.get_status_display(), scheduled_for=obj.scheduled_for
        )

    @admin.display(description=_("progress"))
    def progress_label(self, obj: JobRun) -> str:
        if obj.status != JobRun.Status.RUNNING:
            return "—"
        return progress_text(obj.progress) or "—"

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


# --- django-rq's dashboard, behind the queue permissions ------------------------------------

# django-rq views that change Redis (delete, requeue, enqueue, stop, empty): their GET is the
# confirmation page of the POST, so both need the manage permission.
RQ_WRITE_VIEWS = frozenset(
    {
        "django_rq_delete_failed_jobs",
        "django_rq_clear",
        "django_rq_requeue_all",
        "django_rq_delete_job",
        "django_rq_requeue_job",
        "django_rq_enqueue_job",
        "django_rq_stop_job",
        "django_rq_confirm_action",
        "django_rq_actions",
    }
)
# Token-authenticated JSON for monitoring (RQ_API_TOKEN); a session needs the view permission.
RQ_API_VIEWS = frozenset({"django_rq_home_json", "django_rq_metrics"})
# rq-scheduler's page: Genesys uses RQ's own scheduler (delayed jobs are in each queue's
# "scheduled" registry), so without the rq-scheduler package this view can only fail.
RQ_HIDDEN_VIEWS = frozenset({"django_rq_scheduler_jobs"})
RQ_MODEL_VIEWS = frozenset(f"django_rq_dashboard_{view}" for view in ("add", "change", "delete", "history"))


def _rq_view_guarded(view: Any, *, permission: str, api: bool) -> Any:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if api:
            token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            expected = getattr(settings, "RQ_API_TOKEN", "")
            if expected and token and hmac.compare_digest(token, expected):
                return view(request, *args, **kwargs)
            if not request.user.is_authenticated:
                return JsonResponse({"error": "authentication required"}, status=401)
        elif not admin.site.has_permission(request):
            return view(request, *args, **kwargs)  # the admin's own wrapper sends them to log in
        if not request.user.has_perm(permission):  # type: ignore[union-attr]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


class RQDashboardAdmin(QueueAdmin):
    """django-rq's admin entry, with every view checking a Genesys permission."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("genesys.view_queues")  # type: ignore[union-attr]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("genesys.view_queues")  # type: ignore[union-attr]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list[URLPattern]:
        patterns: list[URLPattern] = []
        for pattern in super().get_urls():
            name = getattr(pattern, "name", None) or ""
            # The model has no table: of the model admin's own views only the changelist (the
            # dashboard itself) makes sense; add/change/history/delete could only fail.
            if not name.startswith("django_rq_") or name in RQ_HIDDEN_VIEWS or name in RQ_MODEL_VIEWS:
                continue
            permission = "genesys.manage_queues" if name in RQ_WRITE_VIEWS else "genesys.view_queues"
            callback = _rq_view_guarded(pattern.callback, permission=permission, api=name in RQ_API_VIEWS)
            patterns.append(URLPattern(pattern.pattern, callback, pattern.default_args, pattern.name))
        return patterns


if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)
admin.site.register(Dashboard, RQDashboardAdmin)


# --- django-axes' attempts -------------------------------------------------------------------


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: Any) -> None:
        # axes sets the attempt time only on login requests; its cleanup needs it as "now".
        request.axes_attempt_time = timezone.now()  # type: ignore[attr-defined]
        super().cleanup_expired_attempts(request, queryset)


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)

from genesys.notifications import admin as notifications_admin  # noqa: E402,F401  (registers its admins)
