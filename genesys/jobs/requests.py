"""Jobs asked for from outside the scheduler: the API, the admin, scripts.

Four doors (the API, the admin, ``run_job`` and the scheduler) lead into one mechanism: a run
in the ledger (one queued-or-running run per key, the database decides) and its RQ job, enqueued
after commit. This module is the door for requests that must be checked first: the kind exists,
its parameters are the ones it declares, it is enabled and the kill switch is off. A refusal is
a ``JobRequestError`` that names the offending field, in the operator's language.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from genesys.jobs.enqueue import job_enqueue, rq_cancel, rq_submit
from genesys.jobs.ledger import kind_config_get, run_finish, run_log, workers_enabled
from genesys.jobs.registry import JobParamsError, job_params_validate, job_spec, job_specs
from genesys.jobs.stopping import run_stop_flag_set
from genesys.models import JobRun

logger = logging.getLogger(__name__)

BULK_MAX_ITEMS = 100
BULK_FIELDS = frozenset({"kind", "params", "key", "priority", "not_before", "after_run_id"})


class JobRequestError(Exception):
    """A request refused before anything was created; ``field`` names what was wrong.

    ``code`` says why, for callers that answer differently: ``unknown_kind``, ``invalid``
    (a field or parameter), ``kind_disabled``, ``kill_switch``, ``not_found`` (the run to wait
    for), ``too_many``.
    """

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


class JobNotCancellable(Exception):
    """The run has ended already: there is nothing left to cancel."""

    def __init__(self, run: JobRun) -> None:
        super().__init__(
            _("Run %(id)s has already ended (%(status)s): it cannot be cancelled.")
            % {"id": run.pk, "status": run.get_status_display()}
        )
        self.run = run


def job_request(
    *,
    kind: str,
    params: dict | None = None,
    key: str | None = None,
    priority: str = "normal",
    not_before: datetime | None = None,
    by: str,
    after_run_id: int | None = None,
) -> tuple[JobRun, bool]:
    """Queue a run of ``kind`` for ``by``; (run, True) when created, (run, False) when the key
    already has a queued or running run: that one is returned, not a second job.

    An existing queued run that would start later, or at a lower priority, than asked is moved
    forward (it starts at the earlier time, at the higher priority): asking for a job now means
    now, whoever queued it first. Raises ``JobRequestError`` naming the field at fault.
    """
    params, key = _request_checked(
        kind=kind, params=params, key=key, priority=priority, not_before=not_before, after_run_id=after_run_id
    )
    for _attempt in range(3):
        run = job_enqueue(
            kind=kind,
            params=params,
            key=key,
            at=not_before,
            triggered_by=by,
            priority=priority,
            after_run_id=after_run_id,
        )
        if run is not None:
            return run, True
        existing = JobRun.objects.filter(key=key, status__in=JobRun.ACTIVE).first()
        if existing is not None:
            return _run_hurried(run=existing, priority=priority, not_before=not_before, by=by), False
    raise RuntimeError(f"job key {key} kept changing state; try again")  # pragma: no cover


def _request_checked(
    *,
    kind: str,
    params: dict | None,
    key: str | None,
    priority: str,
    not_before: datetime | None,
    after_run_id: int | None,
) -> tuple[dict[str, Any], str]:
    """The request's cleaned parameters and key, or the first ``JobRequestError``."""
    if kind not in job_specs():
        raise JobRequestError(
            "kind",
            _("Unknown job kind “%(kind)s”; known kinds: %(known)s.")
            % {"kind": kind, "known": ", ".join(sorted(job_specs()))},
            code="unknown_kind",
        )
    spec = job_spec(kind)
    if priority not in JobRun.Priority.values:
        raise JobRequestError(
            "priority",
            _("Unknown priority “%(priority)s”; use one of %(known)s.")
            % {"priority": priority, "known": ", ".join(JobRun.Priority.values)},
        )
    if params is not None and not isinstance(params, dict):
        raise JobRequestError("params", _("The parameters must be an object."))
    params = dict(params or {})
    if key and not params and spec.params_from_key is not None:
        try:
            params = spec.params_from_key(key)
        except (ValueError, IndexError):
            raise JobRequestError(
                "key", _("“%(key)s” is not a key of a %(kind)s job.") % {"key": key, "kind": kind}
            ) from None
    try:
        params = job_params_validate(spec=spec, params=params)
    except JobParamsError as exc:
        raise JobRequestError(f"params.{exc.field}", exc.message) from None
    expected = spec.key(params)
    if key and key != expected:
        raise JobRequestError(
            "key",
            _("The key of this job is given by its kind and parameters (“%(expected)s”): leave it out.")
            % {"expected": expected},
        )
    if not_before is not None and timezone.is_naive(not_before):
        raise JobRequestError(
            "not_before", _("Give the time with its time zone (e.g. 2026-12-02T10:00:00Z).")
        )
    if after_run_id is not None and not JobRun.objects.filter(pk=after_run_id).exists():
        raise JobRequestError(
            "after_run_id", _("There is no run %(id)s to wait for.") % {"id": after_run_id}, code="not_found"
        )
    if not kind_config_get(kind=kind).enabled:
        raise JobRequestError(
            "kind",
            _("Jobs of kind “%(kind)s” are disabled (Job kind configurations).") % {"kind": kind},
            code="kind_disabled",
        )
    if not workers_enabled():
        raise JobRequestError(
            "kind",
            _("Workers are stopped (the kill switch is on): no job can be queued."),
            code="kill_switch",
        )
    return params, expected


def _run_hurried(*, run: JobRun, priority: str, not_before: datetime | None, by: str) -> JobRun:
    """Move a queued run forward when the request asks for it sooner or more urgently."""
    if run.status != JobRun.Status.QUEUED:
        return run
    order = list(JobRun.PRIORITY_ORDER)
    now = timezone.now()
    wanted_at = not_before if not_before and not_before > now else None
    sooner = run.scheduled_for is not None and (wanted_at is None or wanted_at < run.scheduled_for)
    higher = order.index(JobRun.Priority(priority)) < order.index(JobRun.Priority(run.priority))
    if not sooner and not higher:
        return run
    old_job_id = run.rq_job_id
    new_job_id = f"genesys-{uuid.uuid4().hex}"
    fields: dict[str, Any] = {"rq_job_id": new_job_id}
    if sooner:
        fields["scheduled_for"] = wanted_at
    if higher:
        fields["priority"] = priority
    with transaction.atomic():
        if not JobRun.objects.filter(pk=run.pk, status=JobRun.Status.QUEUED, rq_job_id=old_job_id).update(
            **fields
        ):
            return JobRun.objects.get(pk=run.pk)
        if sooner and wanted_at is None:
            when = _("now")
        else:
            when = _("at %(time)s") % {"time": fields.get("scheduled_for", run.scheduled_for)}
        message = _("moved forward by %(by)s: priority %(priority)s, %(when)s") % {
            "by": by,
            "priority": fields.get("priority", run.priority),
            "when": when,
        }
        run_log(run_id=run.pk, stage="page", message=message)
        transaction.on_commit(partial(rq_cancel, job_id=old_job_id))
        transaction.on_commit(partial(rq_submit, run_id=run.pk))
    run.refresh_from_db()
    return run


def job_requests_bulk(*, items: list[dict], by: str) -> list[dict]:
    """Queue many runs, each item checked on its own: one result per item, in order.

    ``{"index", "status": "created" | "existing" | "rejected", "run_id"?, "field"?, "reason"?}``.
    All items are written in one transaction (each in its own savepoint) and their RQ jobs are
    enqueued after it commits: a server error half-way leaves nothing created.
    """
    if not isinstance(items, list) or not items:
        raise JobRequestError("items", _("Send a non-empty list of jobs."))
    if len(items) > BULK_MAX_ITEMS:
        raise JobRequestError(
            "items",
            _("At most %(max)s jobs per request (%(count)s sent).")
            % {"max": BULK_MAX_ITEMS, "count": len(items)},
            code="too_many",
        )
    results: list[dict] = []
    with transaction.atomic():
        for index, item in enumerate(items):
            try:
                with transaction.atomic():
                    run, created = job_request(**_bulk_item(item), by=by)
            except JobRequestError as exc:
                results.append(
                    {
                        "index": index,
                        "status": "rejected",
                        "field": exc.field,
                        "reason": exc.message,
                        "code": exc.code,
                    }
                )
                continue
            results.append({"index": index, "status": "created" if created else "existing", "run_id": run.pk})
    return results


def _bulk_item(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise JobRequestError("item", _("Each job must be an object."))
    unknown = sorted(set(item) - BULK_FIELDS)
    if unknown:
        raise JobRequestError(
            unknown[0], _("Unknown field; accepted: %(fields)s.") % {"fields": ", ".join(sorted(BULK_FIELDS))}
        )
    if "kind" not in item or not isinstance(item["kind"], str):
        raise JobRequestError("kind", _("The job kind is required."))
    values = dict(item)
    not_before = values.get("not_before")
    if isinstance(not_before, str):
        parsed = parse_datetime(not_before)
        if parsed is None:
            raise JobRequestError("not_before", _("Not a date and time (e.g. 2026-12-02T10:00:00Z)."))
        values["not_before"] = parsed
    elif not_before is not None and not isinstance(not_before, datetime):
        raise JobRequestError("not_before", _("Not a date and time (e.g. 2026-12-02T10:00:00Z)."))
    after = values.get("after_run_id")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        raise JobRequestError("after_run_id", _("Must be the id of a run."))
    if values.get("key") is not None and not isinstance(values["key"], str):
        raise JobRequestError("key", _("Must be a text."))
    if "priority" in values and not isinstance(values["priority"], str):
        raise JobRequestError("priority", _("Must be a text."))
    values.setdefault("priority", JobRun.Priority.NORMAL)
    return values


def job_run_cancel(*, run_id: int, by: str) -> JobRun:
    """Cancel a run: a queued one ends ``cancelled`` now and leaves RQ; a running one is asked to
    stop and ends ``cancelled`` at its next safe point (``JobContext.stop_requested``).

    Raises ``JobRun.DoesNotExist`` for an unknown id and ``JobNotCancellable`` for a run that has
    ended. Asking again while a running run is stopping changes nothing. What follows the run
    (the next per-supplier ingest, runs waiting for it) carries on as after any other end.
    """
    for _attempt in range(3):
        run = JobRun.objects.get(pk=run_id)
        if run.status == JobRun.Status.QUEUED:
            if _queued_cancel(run=run, by=by):
                return run
        elif run.status == JobRun.Status.RUNNING:
            if _running_stop(run=run, by=by):
                return run
        else:
            raise JobNotCancellable(run)
    raise JobNotCancellable(JobRun.objects.get(pk=run_id))  # pragma: no cover (ended meanwhile)


def _queued_cancel(*, run: JobRun, by: str) -> bool:
    from genesys.jobs.runner import run_after

    now = timezone.now()
    with transaction.atomic():
        if not run_finish(
            run=run,
            status=JobRun.Status.CANCELLED,
            summary={"cancelled_by": by},
            from_status=JobRun.Status.QUEUED,
        ):
            return False  # a worker claimed it meanwhile: it is running now
        JobRun.objects.filter(pk=run.pk).update(cancel_requested_at=now, cancel_requested_by=by[:150])
        run.cancel_requested_at, run.cancel_requested_by = now, by[:150]
        transaction.on_commit(partial(rq_cancel, job_id=run.rq_job_id))
        transaction.on_commit(partial(run_after, run=run))
    return True


def _running_stop(*, run: JobRun, by: str) -> bool:
    """Ask a running run to stop (once: a second request keeps the first one's time and name)."""
    with transaction.atomic():
        asked = JobRun.objects.filter(
            pk=run.pk, status=JobRun.Status.RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=timezone.now(), cancel_requested_by=by[:150])
        if asked:
            run_log(
                run_id=run.pk,
                stage="page",
                message=_("cancel requested by %(by)s; stopping at the next safe point") % {"by": by},
            )
            transaction.on_commit(partial(run_stop_flag_set, run_id=run.pk, by=by))
        elif not JobRun.objects.filter(pk=run.pk, status=JobRun.Status.RUNNING).exists():
            return False  # it ended meanwhile
    run.refresh_from_db()
    return True
