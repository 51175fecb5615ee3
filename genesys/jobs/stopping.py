"""Cooperative stop of a running run: a Redis flag its job reads at its safe points.

RQ 2's ``send_stop_job_command`` kills the work horse outright: whatever transaction the job had
open is lost, and nothing records why. A cancelled run is instead asked to stop: the flag set
here is read by ``JobContext.stop_requested()`` between chunks (an ingest, the catalog drain,
the shop sync), and the run ends ``cancelled`` at that point with what it finished committed.
The request is also kept on the run (``cancel_requested_at``), which the context reads too when
Redis is unavailable, and which the watchdog uses to stop by force a run that never reaches a
safe point (``JOBS_CANCEL_FORCE_SECONDS``).
"""

from __future__ import annotations

import logging

import django_rq
from django.conf import settings

logger = logging.getLogger(__name__)


def _key(run_id: int) -> str:
    return f"genesys:run:{run_id}:stop"


def run_stop_flag_set(*, run_id: int, by: str) -> bool:
    """Ask the run's job to stop; False if Redis refused (the job still sees the request on its
    run record within a few seconds)."""
    try:
        django_rq.get_connection("default").set(_key(run_id), by[:150] or "-", ex=settings.RQ_FAILURE_TTL)
    except Exception:
        logger.exception("Could not set the stop flag of run %s in Redis", run_id)
        return False
    return True


def run_stop_flag_get(*, run_id: int) -> bool:
    try:
        return bool(django_rq.get_connection("default").exists(_key(run_id)))
    except Exception:
        logger.warning("Could not read the stop flag of run %s from Redis", run_id)
        return False


def run_stop_flag_clear(*, run_id: int) -> None:
    try:
        django_rq.get_connection("default").delete(_key(run_id))
    except Exception:
        logger.warning("Could not delete the stop flag of run %s (it expires by itself)", run_id)
