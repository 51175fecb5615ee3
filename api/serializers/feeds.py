"""Feed runs: what one ingest of one feed read, wrote and rejected."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.common import NamedRefSerializer

COUNTERS = (
    "bytes_downloaded",
    "pages_fetched",
    "rows_read",
    "rows_valid",
    "rows_rejected",
    "warnings_count",
    "products_created",
    "products_updated",
    "offers_created",
    "offers_changed",
    "offers_unchanged",
    "offers_zeroed",
    "events_created",
    "stream_rows",
    "identity_conflicts",
    "price_outliers",
)


class FeedRunCountersSerializer(serializers.Serializer):
    def get_fields(self):
        return {name: serializers.IntegerField(read_only=True) for name in COUNTERS}


class RejectedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(read_only=True, allow_null=True)
    reason = serializers.CharField(read_only=True)
    raw = serializers.DictField(read_only=True, help_text="The row's fields as the feed gave them.")


class FeedRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    supplier = NamedRefSerializer(source="feed.supplier", read_only=True)
    feed = NamedRefSerializer(read_only=True)
    status = serializers.CharField(read_only=True)
    triggered_by = serializers.CharField(read_only=True)
    dry_run = serializers.BooleanField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    job_run_id = serializers.IntegerField(read_only=True, allow_null=True)
    unseen_handling = serializers.CharField(read_only=True)
    progress = serializers.CharField(read_only=True)
    error = serializers.CharField(read_only=True)
    counters = FeedRunCountersSerializer(source="*", read_only=True)


class FeedRunDetailSerializer(FeedRunSerializer):
    timings = serializers.DictField(child=serializers.FloatField(), read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    rejected_rows = RejectedRowSerializer(many=True, read_only=True)
    rejected_rows_shown = serializers.IntegerField(read_only=True)
    rejected_rows_kept = serializers.IntegerField(
        read_only=True, help_text="Rejected rows the run kept (the first 1,000); rows_rejected counts all."
    )
