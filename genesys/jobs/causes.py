"""Why a run failed, kept in Redis until the database has it.

A job that fails while the database is down cannot record its error. The runner writes the
error here first (keyed by run id), then retries the database; if the worker dies before the
database comes back, the watchdog, abandoning the run later, reads the error here and records
the real cause instead of "worker vanished".
"""

from __future__ import annotations

import logging

import django_rq
from django.conf import settings

logger = logging.getLogger(__name__)

CAUSE_MAX = 20000


def _key(run_id: int) -> str:
    return f"genesys:run:{run_id}:cause"


def run_cause_leave(*, run_id: int, error: str) -> bool:
    """Keep ``error`` for the watchdog; False if Redis is unavailable too (logged)."""
    try:
        django_rq.get_connection("default").set(_key(run_id), error[-CAUSE_MAX:], ex=settings.RQ_FAILURE_TTL)
    except Exception:
        logger.exception("Could not keep the cause of run %s in Redis either", run_id)
        return False
    return True


def run_cause_get(*, run_id: int) -> str:
    try:
        raw = django_rq.get_connection("default").get(_key(run_id))
    except Exception:
        logger.exception("Could not read the cause of run %s from Redis", run_id)
        return ""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return raw or ""


def run_cause_clear(*, run_id: int) -> None:
    try:
        django_rq.get_connection("default").delete(_key(run_id))
    except Exception:
        logger.warning("Could not delete the kept cause of run %s (it expires by itself)", run_id)
