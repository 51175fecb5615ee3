"""GET /api/v1/feed-runs and /api/v1/feed-runs/{id}."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers.feeds import FeedRunDetailSerializer, FeedRunSerializer
from api.views.base import ApiView, NewestFirst, documented, shown_with
from procurement.models import FeedRun
from procurement.selectors import feed_run_get, feed_runs_filter

# Rejected rows shown to a user who may not download them all (as the admin's run page does).
REJECTED_ROWS_SHOWN = 50
ROW_ID_MAX = 2**63 - 1


class FeedRunFilters(serializers.Serializer):
    supplier = serializers.IntegerField(
        required=False, min_value=1, max_value=ROW_ID_MAX, help_text="A supplier's id."
    )
    status = serializers.ChoiceField(choices=FeedRun.Status.choices, required=False)


class FeedRunListView(ApiView, ListAPIView):
    read_permission = "procurement.view_feedrun"
    serializer_class = FeedRunSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        filters = FeedRunFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return feed_runs_filter(
            supplier_id=filters.validated_data.get("supplier"), status=filters.validated_data.get("status")
        )

    @extend_schema(
        operation_id="feed_runs_list",
        summary="Feed runs, newest first, by supplier and status",
        parameters=[FeedRunFilters],
        responses=documented({200: FeedRunSerializer(many=True)}, 400, 404),
        tags=["feed runs"],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class FeedRunDetailView(ApiView):
    read_permission = "procurement.view_feedrun"

    @extend_schema(
        operation_id="feed_run_get",
        summary="One feed run: its counters, warnings, timings and rejected rows",
        responses=documented({200: FeedRunDetailSerializer}, 404),
        tags=["feed runs"],
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = feed_run_get(run_id=run_id) if run_id <= ROW_ID_MAX else None
        if run is None:
            raise NotFound(_("No feed run %(id)s.") % {"id": run_id})
        kept = run.rejected_rows or []
        if not request.user.has_perm("procurement.download_rejected_rows"):
            kept_shown = kept[:REJECTED_ROWS_SHOWN]
        else:
            kept_shown = kept
        run.rejected_rows = kept_shown
        shown = shown_with(run, rejected_rows_shown=len(kept_shown), rejected_rows_kept=len(kept))
        return Response(FeedRunDetailSerializer(shown).data)
