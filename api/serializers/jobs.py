"""Jobs (runs of the ledger) as the API shows them and takes them."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from genesys.jobs.requests import BULK_MAX_ITEMS
from genesys.models import JobRun

LOG_TAIL_LINES = 20


class JobRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    key = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=JobRun.Status.choices, read_only=True)
    priority = serializers.ChoiceField(choices=JobRun.Priority.choices, read_only=True)
    params = serializers.DictField(read_only=True)
    attempt = serializers.IntegerField(read_only=True)
    triggered_by = serializers.CharField(read_only=True)
    after_run_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The run this one waits for, if any."
    )
    created_at = serializers.DateTimeField(read_only=True)
    not_before = serializers.DateTimeField(source="scheduled_for", read_only=True, allow_null=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    heartbeat_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    summary = serializers.DictField(read_only=True, help_text="What the run counted (kind-specific).")
    error = serializers.CharField(read_only=True)
    cancel_requested_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancel_requested_by = serializers.CharField(read_only=True)


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(read_only=True, allow_null=True)
    total = serializers.IntegerField(read_only=True, allow_null=True, help_text="Null when not known.")
    unit = serializers.CharField(read_only=True)
    percent = serializers.FloatField(read_only=True, allow_null=True)
    message = serializers.CharField(read_only=True)


class LogLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Pass the last one as ?after= to follow.")
    stage = serializers.CharField(read_only=True)
    time = serializers.DateTimeField(source="created_at", read_only=True)
    message = serializers.CharField(read_only=True)


class JobRunDetailSerializer(JobRunSerializer):
    progress = ProgressSerializer(source="progress_view", read_only=True)
    log = LogLineSerializer(source="log_tail", many=True, read_only=True, help_text="The last log lines.")


class JobRunLogPageSerializer(serializers.Serializer):
    run_id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=JobRun.Status.choices, read_only=True)
    live = serializers.BooleanField(read_only=True, help_text="The run is queued or running: ask again.")
    lines = LogLineSerializer(many=True, read_only=True)
    next_after = serializers.IntegerField(read_only=True, help_text="The ?after= of the next request.")


class JobRequestSerializer(serializers.Serializer):
    """POST /jobs. The job framework checks the rest (the kind's parameters, its switch, the
    kill switch) and names the field it refuses."""

    kind = serializers.CharField(max_length=40, help_text="A job kind, e.g. supplier_ingest.")
    params = serializers.DictField(required=False, help_text="The kind's parameters.")
    key = serializers.CharField(
        max_length=120, required=False, help_text="Instead of params, e.g. supplier_ingest:3."
    )
    priority = serializers.ChoiceField(choices=JobRun.Priority.choices, default=JobRun.Priority.NORMAL)
    not_before = serializers.DateTimeField(required=False, allow_null=True)

    def validate_not_before(self, value):
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class JobBulkRequestSerializer(serializers.Serializer):
    """Each item is checked on its own (a bad item is rejected, the others go on); only the list
    itself is checked here."""

    items = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=BULK_MAX_ITEMS,
        help_text="Jobs, each like the body of POST /jobs (kind, params, key, priority, not_before).",
    )


class JobBulkResultSerializer(serializers.Serializer):
    # Not read-only: the schema then says which keys each result may leave out.
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "existing", "rejected"])
    run_id = serializers.IntegerField(required=False, help_text="created and existing")
    field = serializers.CharField(required=False, help_text="rejected: the field at fault")
    reason = serializers.CharField(required=False, help_text="rejected: why")
    code = serializers.CharField(required=False, help_text="rejected: what kind of refusal")


class JobBulkResponseSerializer(serializers.Serializer):
    results = JobBulkResultSerializer(many=True, read_only=True)
    created = serializers.IntegerField(read_only=True)
    existing = serializers.IntegerField(read_only=True)
    rejected = serializers.IntegerField(read_only=True)


class JobExistsSerializer(serializers.Serializer):
    """409: the key already has a queued or running run; this is it (no second job was made)."""

    detail = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True)
    run = JobRunSerializer(read_only=True)


class JobListFilters(serializers.Serializer):
    kind = serializers.CharField(required=False, max_length=40)
    status = serializers.ChoiceField(choices=JobRun.Status.choices, required=False)
    key = serializers.CharField(required=False, max_length=120)
    since = serializers.DateTimeField(required=False, help_text="Created at or after.")
    until = serializers.DateTimeField(required=False, help_text="Created before.")

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until <= since:
            raise serializers.ValidationError({"until": _("Must be later than “since”.")})
        return attrs


class QuickSyncRequestSerializer(serializers.Serializer):
    supplier = serializers.CharField(max_length=120, help_text="The supplier's id or name.")


class QuickSyncResponseSerializer(serializers.Serializer):
    ingest = JobRunSerializer(read_only=True)
    ingest_created = serializers.BooleanField(read_only=True)
    sync = JobRunSerializer(read_only=True)
    sync_created = serializers.BooleanField(read_only=True)


class QueueStatsSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    depth = serializers.IntegerField(read_only=True, help_text="Jobs waiting on the queue.")
    started = serializers.IntegerField(read_only=True)
    deferred = serializers.IntegerField(read_only=True)
    scheduled = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)
    oldest_job_age_seconds = serializers.FloatField(read_only=True, allow_null=True)
    workers = serializers.ListField(child=serializers.CharField(), read_only=True)


class KindStatsSerializer(serializers.Serializer):
    kind = serializers.CharField(read_only=True)
    enabled = serializers.BooleanField(read_only=True)
    running = serializers.IntegerField(read_only=True)
    queued = serializers.IntegerField(read_only=True)
    last_success = serializers.DateTimeField(read_only=True, allow_null=True)
    last_failure = serializers.DateTimeField(read_only=True, allow_null=True)
    next_run = serializers.DateTimeField(read_only=True, allow_null=True)


class QueuesSerializer(serializers.Serializer):
    queues = QueueStatsSerializer(many=True, read_only=True)
    kinds = KindStatsSerializer(many=True, read_only=True)
    workers = serializers.IntegerField(read_only=True, help_text="Workers alive.")
    kill_switch = serializers.BooleanField(read_only=True, help_text="True: no job runs.")
