"""Named failure points, for the fault-injection tests to kill a real worker at an exact step.

``failpoint(name)`` does nothing unless the ``FAILPOINTS`` setting names the point, which only
the test settings read from the environment (``GENESYS_FAILPOINTS="catalog.drain_chunk_committed:2=kill"``:
on the second time the point is reached in this process). ``kill`` SIGKILLs the process, and
the RQ worker that forked it when the process is a work horse, as an OOM kill or a lost
machine would: no ``finally``, no ``atexit``, no last write.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

from django.conf import settings

_hits: Counter[str] = Counter()


def failpoint(name: str) -> None:
    points = getattr(settings, "FAILPOINTS", None)
    if not points or name not in points:
        return
    _hits[name] += 1
    nth, action = points[name]
    if _hits[name] != nth:
        return
    if action == "kill":
        _kill_worker()
    raise RuntimeError(f"failpoint {name} reached (action {action!r})")


def failpoints_reset() -> None:
    """Forget the hits counted so far (tests that change ``FAILPOINTS`` in-process)."""
    _hits.clear()


def failpoints_parse(spec: str) -> dict[str, tuple[int, str]]:
    """``"a.b:2=kill,c=kill"`` -> ``{"a.b": (2, "kill"), "c": (1, "kill")}``."""
    points: dict[str, tuple[int, str]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        target, _, action = item.partition("=")
        name, _, nth = target.partition(":")
        points[name] = (int(nth or 1), action or "kill")
    return points


def _kill_worker() -> None:
    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/cmdline", "rb") as handle:
            parent_is_worker = b"rqworker" in handle.read()
    except OSError:
        parent_is_worker = False
    if parent_is_worker:
        os.kill(parent, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
