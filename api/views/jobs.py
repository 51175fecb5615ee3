"""The job endpoints: create one or many, read, follow the log, cancel, list; queue statistics
and the quick sync. Every write goes through the job framework (genesys.jobs.requests): the API,
the admin, ``run_job`` and the scheduler are four doors into one mechanism."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api.exceptions import Refused
from api.serializers.jobs import (
    LOG_TAIL_LINES,
    JobBulkRequestSerializer,
    JobBulkResponseSerializer,
    JobExistsSerializer,
    JobListFilters,
    JobRequestSerializer,
    JobRunDetailSerializer,
    JobRunLogPageSerializer,
    JobRunSerializer,
    QueuesSerializer,
    QuickSyncRequestSerializer,
    QuickSyncResponseSerializer,
)
from api.throttling import ApiJobsThrottle, ApiRequestThrottle
from api.views.base import ApiView, NewestFirst, documented, shown_with
from genesys.jobs.requests import (
    BULK_MAX_ITEMS,
    JobNotCancellable,
    JobRequestError,
    job_request,
    job_requests_bulk,
    job_run_cancel,
)
from genesys.jobs.selectors import queues_stats, run_log_page, run_log_tail, run_progress, runs_filter
from genesys.models import JobKind, JobRun
from procurement.selectors import supplier_find

RUN_ID_MAX = 2**63 - 1
# Refusals that are about the server's state, not the request's words.
STATE_REFUSALS = {"kind_disabled", "kill_switch"}
JOB_READ = "genesys.view_jobrun"
CANCEL_DOC = (
    "A queued run ends cancelled now (200) and leaves its RQ queue; a running run is asked to stop "
    "(202) and ends cancelled at its next safe point, with what it finished committed. A run that "
    "has ended: 409."
)


def _by(request: Request) -> str:
    """Who asked, for the ledger's "triggered by": the user, and the token's id when one was used."""
    token = getattr(request.auth, "public_id", None)
    user = request.user.get_username()
    return f"api:{user}:{token}" if token else f"api:{user}"


def _refused(exc: JobRequestError) -> Refused:
    code = status.HTTP_409_CONFLICT if exc.code in STATE_REFUSALS else status.HTTP_400_BAD_REQUEST
    return Refused(field=exc.field, message=exc.message, code=exc.code, status_code=code)


def _run_or_404(run_id: int) -> JobRun:
    run = JobRun.objects.filter(pk=run_id).first() if run_id <= RUN_ID_MAX else None
    if run is None:
        raise NotFound(_("No job run %(id)s.") % {"id": run_id})
    return run


class JobListCreateView(ApiView, ListAPIView):
    read_permission = JOB_READ
    write_permission = "genesys.run_jobs"
    serializer_class = JobRunSerializer
    pagination_class = NewestFirst

    def get_throttles(self) -> list[Any]:
        return [ApiRequestThrottle(), ApiJobsThrottle()]

    def get_queryset(self):
        filters = JobListFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return runs_filter(**filters.validated_data)

    @extend_schema(
        operation_id="jobs_list",
        summary="Job runs, newest first, filtered by kind, status, key and creation time",
        parameters=[JobListFilters],
        responses=documented({200: JobRunSerializer(many=True)}, 400, 404),
        tags=["jobs"],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="jobs_create",
        summary="Queue a job",
        description=(
            "201 with the new run; 409 with the run already queued or running under the same key "
            "(no second job is made); 400 naming the field at fault (unknown kind, bad parameters); "
            "409 naming `kind` when the kind is disabled or the kill switch is on."
        ),
        request=JobRequestSerializer,
        responses=documented(
            {
                201: JobRunSerializer,
                409: OpenApiResponse(
                    JobExistsSerializer, description="Already queued or running, or refused."
                ),
            },
            400,
        ),
        tags=["jobs"],
    )
    def post(self, request: Request) -> Response:
        body = JobRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            run, created = job_request(**body.validated_data, by=_by(request))
        except JobRequestError as exc:
            raise _refused(exc) from None
        if created:
            return Response(JobRunSerializer(run).data, status=status.HTTP_201_CREATED)
        detail = _("Run %(id)s of key %(key)s is already %(status)s: no second job was made.") % {
            "id": run.pk,
            "key": run.key,
            "status": run.get_status_display().lower(),
        }
        return Response(
            {"detail": detail, "code": "exists", "run": JobRunSerializer(run).data},
            status=status.HTTP_409_CONFLICT,
        )


class JobBulkView(ApiView):
    write_permission = "genesys.run_jobs"

    def get_throttles(self) -> list[Any]:
        return [ApiRequestThrottle(), ApiJobsThrottle()]

    def throttle_cost(self, request: Request) -> int:
        """Each item counts against the token's jobs per minute."""
        items = request.data.get("items") if isinstance(request.data, dict) else None
        return max(1, min(len(items), BULK_MAX_ITEMS)) if isinstance(items, list) else 1

    @extend_schema(
        operation_id="jobs_bulk_create",
        summary=f"Queue up to {BULK_MAX_ITEMS} jobs, each checked on its own",
        description=(
            "One result per item, in order: created (with run_id), existing (the run already "
            "queued or running under that key) or rejected (with the field and the reason). "
            "All are written in one transaction: a server error leaves nothing half-created."
        ),
        request=JobBulkRequestSerializer,
        responses=documented({200: JobBulkResponseSerializer}, 400),
        tags=["jobs"],
    )
    def post(self, request: Request) -> Response:
        body = JobBulkRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            results = job_requests_bulk(items=body.validated_data["items"], by=_by(request))
        except JobRequestError as exc:
            raise _refused(exc) from None
        counts = {
            state: sum(1 for r in results if r["status"] == state)
            for state in ("created", "existing", "rejected")
        }
        return Response({"results": results, **counts})


class JobDetailView(ApiView):
    read_permission = JOB_READ
    write_permission = "genesys.cancel_jobs"

    @extend_schema(
        operation_id="job_get",
        summary="A job run: status, priority, times, progress, summary, error and its last log lines",
        responses=documented({200: JobRunDetailSerializer}, 404),
        tags=["jobs"],
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = _run_or_404(run_id)
        shown = shown_with(run, progress_view=run_progress(run=run), log_tail=_log_tail(run))
        return Response(JobRunDetailSerializer(shown).data)

    @extend_schema(
        operation_id="job_cancel",
        summary="Cancel a job run (same as POST /jobs/{id}/cancel)",
        description=CANCEL_DOC,
        request=None,
        responses=documented(
            {
                200: OpenApiResponse(JobRunSerializer, description="Cancelled."),
                202: OpenApiResponse(JobRunSerializer, description="Asked to stop; still running."),
                409: OpenApiResponse(JobExistsSerializer, description="The run has ended already."),
            },
            404,
        ),
        tags=["jobs"],
    )
    def delete(self, request: Request, run_id: int) -> Response:
        return _cancel(request, run_id)


class JobCancelView(ApiView):
    write_permission = "genesys.cancel_jobs"

    @extend_schema(
        operation_id="job_cancel_post",
        summary="Cancel a job run",
        description=CANCEL_DOC,
        request=None,
        responses=documented(
            {
                200: OpenApiResponse(JobRunSerializer, description="Cancelled."),
                202: OpenApiResponse(JobRunSerializer, description="Asked to stop; still running."),
                409: OpenApiResponse(JobExistsSerializer, description="The run has ended already."),
            },
            404,
        ),
        tags=["jobs"],
    )
    def post(self, request: Request, run_id: int) -> Response:
        return _cancel(request, run_id)


def _cancel(request: Request, run_id: int) -> Response:
    _run_or_404(run_id)
    try:
        run = job_run_cancel(run_id=run_id, by=_by(request))
    except JobRun.DoesNotExist:
        raise NotFound(_("No job run %(id)s.") % {"id": run_id}) from None
    except JobNotCancellable as exc:
        return Response(
            {"detail": str(exc), "code": "ended", "run": JobRunSerializer(exc.run).data},
            status=status.HTTP_409_CONFLICT,
        )
    code = status.HTTP_200_OK if run.status == JobRun.Status.CANCELLED else status.HTTP_202_ACCEPTED
    return Response(JobRunSerializer(run).data, status=code)


def _log_tail(run: JobRun) -> list[Any]:
    return run_log_tail(run_id=run.pk, lines=LOG_TAIL_LINES)


class LogQuery(serializers.Serializer):
    after = serializers.IntegerField(required=False, default=0, min_value=0, max_value=RUN_ID_MAX)
    limit = serializers.IntegerField(required=False, default=200, min_value=1, max_value=1000)


class JobLogView(ApiView):
    read_permission = JOB_READ

    @extend_schema(
        operation_id="job_log",
        summary="A run's log lines after line ?after=N (oldest first): follow a run as it goes",
        parameters=[LogQuery],
        responses=documented({200: JobRunLogPageSerializer}, 400, 404),
        tags=["jobs"],
    )
    def get(self, request: Request, run_id: int) -> Response:
        query = LogQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        run = _run_or_404(run_id)
        after = query.validated_data["after"]
        lines = run_log_page(run_id=run.pk, after=after, limit=query.validated_data["limit"])
        page = {
            "run_id": run.pk,
            "status": run.status,
            "live": run.status in JobRun.ACTIVE,
            "lines": lines,
            "next_after": lines[-1].pk if lines else after,
        }
        return Response(JobRunLogPageSerializer(page).data)


class QueuesView(ApiView):
    read_permission = "genesys.view_queues"

    @extend_schema(
        operation_id="queues_get",
        summary="Per queue: depth, started, deferred, scheduled, failed, oldest age, workers; per kind: "
        "running, queued, last success and failure; the kill switch",
        responses=documented({200: QueuesSerializer}),
        tags=["queues"],
    )
    def get(self, request: Request) -> Response:
        return Response(QueuesSerializer(queues_stats()).data)


class QuickSyncView(ApiView):
    write_permission = "genesys.run_jobs"

    def get_throttles(self) -> list[Any]:
        return [ApiRequestThrottle(), ApiJobsThrottle()]

    def throttle_cost(self, request: Request) -> int:
        return 2  # an ingest and a shop sync

    @extend_schema(
        operation_id="sync_quick",
        summary="Ingest a supplier now (urgent), then send the shop the updates it produced",
        description=(
            "Queues the supplier's ingest at urgent priority and a shop sync of its own that waits "
            "for it (a sync already queued or running does not stand in for it); "
            "answers with both runs. 201 when the ingest was queued by this request, 200 when it "
            "was queued or running already (it is then moved forward, and the sync follows it)."
        ),
        request=QuickSyncRequestSerializer,
        responses=documented({201: QuickSyncResponseSerializer, 200: QuickSyncResponseSerializer}, 400, 409),
        tags=["jobs"],
    )
    def post(self, request: Request) -> Response:
        body = QuickSyncRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        supplier = _supplier(body.validated_data["supplier"])
        by = _by(request)
        try:
            with transaction.atomic():  # both runs or neither
                ingest, ingest_created = job_request(
                    kind=JobKind.SUPPLIER_INGEST,
                    params={"supplier_id": supplier.pk},
                    priority=JobRun.Priority.URGENT,
                    by=by,
                )
                # Its own drain, after this ingest: a drain already queued or running may end
                # before the ingest has produced anything.
                sync, sync_created = job_request(
                    kind=JobKind.CATALOG_SYNC,
                    params={"after_run": ingest.pk},
                    priority=JobRun.Priority.URGENT,
                    after_run_id=ingest.pk,
                    by=by,
                )
        except JobRequestError as exc:
            raise _refused(exc) from None
        answer = {
            "ingest": ingest,
            "ingest_created": ingest_created,
            "sync": sync,
            "sync_created": sync_created,
        }
        code = status.HTTP_201_CREATED if ingest_created else status.HTTP_200_OK
        return Response(QuickSyncResponseSerializer(answer).data, status=code)


def _supplier(reference: str) -> Any:
    from procurement.models import Supplier

    try:
        return supplier_find(reference=reference)
    except Supplier.DoesNotExist:
        message = _("No supplier with id or name “%(supplier)s”.") % {"supplier": reference}
    except Supplier.MultipleObjectsReturned:
        message = _("“%(supplier)s” is both a supplier's id and another's name: give the id.") % {
            "supplier": reference
        }
    raise Refused(field="supplier", message=message, code="invalid", status_code=status.HTTP_400_BAD_REQUEST)
