"""Run queued RQ jobs in the test process with a real RQ SimpleWorker on the real (test) Redis."""

from __future__ import annotations

import django_rq
from django.conf import settings
from django.test import TestCase
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from genesys.models import JobRun


def jobs_work(*queues: str, with_scheduler: bool = False) -> None:
    """Work every job queued on ``queues`` (default: all Genesys queues) until none is left.

    SimpleWorker runs jobs in this process and thread, so they see the test's transaction; the
    after-commit hooks the jobs register (retries, next runs) run when the burst ends, as they
    would when each job's own transaction commits in production.
    """
    names = queues or settings.GENESYS_QUEUES
    worker = django_rq.get_worker(*names, worker_class=SimpleWorker, serializer=JSONSerializer)
    with TestCase.captureOnCommitCallbacks(execute=True):
        worker.work(burst=True, with_scheduler=with_scheduler)


def jobs_due_now() -> None:
    """Move scheduled (delayed) Genesys jobs to their queues now, as RQ's scheduler would when due."""
    for name in settings.GENESYS_QUEUES:
        queue = django_rq.get_queue(name, commit_mode="auto")
        registry = queue.scheduled_job_registry
        for job_id in registry.get_job_ids():
            queue.enqueue_job(queue.fetch_job(job_id))
            registry.remove(job_id)


def runs(**filters) -> list[JobRun]:
    return list(JobRun.objects.filter(**filters).order_by("id"))


# A job kind for the framework's own tests: its parameters say what it should do.
TEST_KIND = "test_job"
CALLS: list[dict] = []


def _test_after(run: JobRun) -> None:
    CALLS.append({"after": run.pk, "status": run.status})


def _test_job(ctx):
    from genesys.jobs.context import JobOutcome, JobSkip

    CALLS.append({"ran": ctx.run.pk, "attempt": ctx.run.attempt})
    ctx.progress("working")
    if ctx.params.get("steps"):
        return _test_steps(ctx)
    if ctx.params.get("fail"):
        raise RuntimeError(f"boom on attempt {ctx.run.attempt}")
    if ctx.params.get("skip"):
        raise JobSkip("nothing to do")
    if ctx.params.get("warn"):
        return JobOutcome(summary={"done": 1}, status="warning")
    return {"done": 1}


def _test_steps(ctx):
    """``steps`` units of work, each a safe point; at step ``cancel_at`` an operator cancels."""
    from genesys.jobs.requests import job_run_cancel

    done = 0
    for step in range(ctx.params["steps"]):
        if step == ctx.params.get("cancel_at"):
            job_run_cancel(run_id=ctx.run.pk, by="operator-in-test")
        if ctx.stop_requested():
            break
        done += 1
        ctx.progress(f"step {done}", done=done, total=ctx.params["steps"], unit="steps")
    if ctx.params.get("fail_when_stopped") and done < ctx.params["steps"]:
        raise RuntimeError("failed while stopping")
    return {"steps_done": done}


def test_kind_register() -> None:
    from genesys.jobs.registry import JobParam, KindDefaults, job_kind

    job_kind(
        TEST_KIND,
        queue="maintenance",
        key=lambda params: f"{TEST_KIND}:{params.get('n', 0)}",
        defaults=KindDefaults(retry_attempts=2, retry_backoff_seconds=(30, 120)),
        after=_test_after,
        params_from_key=lambda key: {"n": int(key.rsplit(":", 1)[-1])},
        params={
            "n": JobParam(int),
            "fail": JobParam(bool),
            "skip": JobParam(bool),
            "warn": JobParam(bool),
            "steps": JobParam(int),
            "cancel_at": JobParam(int),
            "fail_when_stopped": JobParam(bool),
        },
    )(_test_job)
