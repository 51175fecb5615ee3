"""The job ledger shared by all apps: per-kind configuration, the kill switch, runs and logs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    SUPPLIER_INGEST = "supplier_ingest", _("Supplier ingest")
    PRODUCT_EOL_CHECK = "product_eol_check", _("End-of-life check")
    CATALOG_SYNC = "catalog_sync", _("Shop sync")
    PRODUCT_AUTO_IMPORT = "product_auto_import", _("Product auto-import")
    CATALOG_RECOMPUTE = "catalog_recompute", _("Catalog recompute")
    PRESTASHOP_SYNC_CATEGORIES = "prestashop_sync_categories", _("Shop categories sync")
    MAINTENANCE = "maintenance", _("Maintenance")
    CURRENCY_RATES_REFRESH = "currency_rates_refresh", _("Exchange rates refresh")


class WorkerGlobalConfig(models.Model):
    """A single row: the global kill switch. Workers read it before every job."""

    workers_enabled = models.BooleanField(
        _("workers enabled"),
        default=True,
        help_text=_("Kill switch: when off, no job runs (they are skipped and rescheduled)."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.CharField(_("updated by"), max_length=150, blank=True, default="")

    class Meta:
        verbose_name = _("global worker switch")
        verbose_name_plural = _("global worker switch")
        permissions = [("toggle_killswitch", _("Can turn the kill switch on and off"))]
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="worker_global_config_singleton"),
        ]

    def __str__(self) -> str:
        return str(_("Workers enabled") if self.workers_enabled else _("Workers stopped (kill switch)"))


class JobKindConfig(models.Model):
    """How one kind of job runs; edited in the admin, read by workers at each job."""

    kind = models.CharField(_("kind"), max_length=40, choices=JobKind.choices, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    max_concurrency = models.PositiveSmallIntegerField(
        _("max concurrency"), default=1, help_text=_("Jobs of this kind running at once, across all workers.")
    )
    retry_attempts = models.PositiveSmallIntegerField(
        _("retry attempts"), default=3, help_text=_("Retries after the first failure.")
    )
    retry_backoff_seconds = models.JSONField(
        _("retry backoff (s)"),
        default=list,
        blank=True,
        help_text=_("Seconds to wait before each retry, e.g. [60, 300, 900]; the last repeats."),
    )
    timeout_seconds = models.PositiveIntegerField(_("timeout (s)"), default=3600)
    stale_after_seconds = models.PositiveIntegerField(
        _("stale after (s)"),
        default=7200,
        help_text=_("A run still 'running' after this long without a heartbeat is abandoned."),
    )
    schedule = models.CharField(
        _("schedule"),
        max_length=64,
        blank=True,
        default="",
        help_text=_(
            'Cron expression in UTC ("0 3 * * *") or an interval ("every 30s"); '
            "empty for kinds scheduled per key (supplier ingests)."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("job kind configuration")
        verbose_name_plural = _("job kind configurations")
        permissions = [("run_jobs", _("Can run jobs now (ingests, recomputes, imports)"))]
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(max_concurrency__gte=1), name="jobkind_concurrency_positive"),
            models.CheckConstraint(condition=Q(timeout_seconds__gte=1), name="jobkind_timeout_positive"),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class JobRun(models.Model):
    """One execution of a job (or a decision not to run it), with its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCESS = "success", _("Success")
        WARNING = "warning", _("Warning")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        ABANDONED = "abandoned", _("Abandoned")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.TextChoices):
        # Workers listen to "urgent", then "high", then the kinds' own queues, then "low".
        URGENT = "urgent", _("Urgent")
        HIGH = "high", _("High")
        NORMAL = "normal", _("Normal")
        LOW = "low", _("Low")

    kind = models.CharField(_("kind"), max_length=40, choices=JobKind.choices)
    key = models.CharField(_("key"), max_length=120, help_text=_('E.g. "supplier_ingest:3".'))
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    triggered_by = models.CharField(_("triggered by"), max_length=64, blank=True, default="")
    after_run = models.ForeignKey(
        "self",
        verbose_name=_("after run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followers",
        help_text=_("Starts only once this run has ended."),
    )
    rq_job_id = models.CharField(_("RQ job id"), max_length=128, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    worker_name = models.CharField(_("worker"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    scheduled_for = models.DateTimeField(
        _("scheduled for"),
        null=True,
        blank=True,
        help_text=_("Not before this time (empty: as soon as possible)."),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    progress = models.JSONField(
        _("progress"), default=dict, blank=True, help_text=_("Work done so far (and the total, when known).")
    )
    error = models.TextField(_("error"), blank=True, default="")
    cancel_requested_at = models.DateTimeField(_("cancel requested at"), null=True, blank=True)
    cancel_requested_by = models.CharField(_("cancel requested by"), max_length=150, blank=True, default="")

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    PRIORITY_ORDER = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        permissions = [
            ("view_queues", _("Can see the RQ queues, jobs and workers (django-rq)")),
            ("manage_queues", _("Can delete, requeue and stop RQ jobs and empty queues (django-rq)")),
            ("cancel_jobs", _("Can cancel queued and running jobs")),
        ]
        constraints = [
            # One pending or running job per key (e.g. per supplier), however often scheduling
            # is asked for, by however many processes at once.
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(status__in=["queued", "running"]),
                name="jobrun_one_active_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "status"], name="jobrun_kind_status_idx"),
            models.Index(fields=["key", "-created_at"], name="jobrun_key_created_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="jobrun_status_heartbeat_idx"),
            models.Index(fields=["created_at"], name="jobrun_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} #{self.pk} ({self.get_status_display()})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()


class JobRunLog(models.Model):
    class Stage(models.TextChoices):
        START = "start", _("Start")
        PAGE = "page", _("Progress")
        DONE = "done", _("Done")
        ERROR = "error", _("Error")

    run = models.ForeignKey(JobRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="logs")
    stage = models.CharField(_("stage"), max_length=8, choices=Stage.choices)
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("job log line")
        verbose_name_plural = _("job log lines")
        indexes = [models.Index(fields=["run", "id"], name="jobrunlog_run_idx")]

    def __str__(self) -> str:
        return f"[{self.stage}] {self.message[:60]}"
