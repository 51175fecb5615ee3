"""Two writers racing for the same rows, each in its own thread, connection and transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction


def until_a_lock_is_awaited(seconds: float = 30) -> None:
    """Return once some session waits on a lock (PostgreSQL), or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the second writer never waited on the first")


def race(work: Callable[[str], Any], *, seconds: float = 30) -> dict[str, Any]:
    """``work("first")`` then ``work("second")``, each in a transaction of its own: the first
    keeps its transaction open until the second waits on one of its locks, then commits.
    Returns each one's result; fails on any error either raised."""
    done_first, results, errors = threading.Event(), {}, []

    def run(name: str) -> None:
        try:
            with transaction.atomic():
                results[name] = work(name)
                if name == "first":
                    done_first.set()
                    until_a_lock_is_awaited(seconds)
        except Exception as exc:
            errors.append(exc)
        finally:
            done_first.set()
            connection.close()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert done_first.wait(seconds), errors
    second = threading.Thread(target=run, args=("second",))
    second.start()
    first.join(seconds)
    second.join(seconds)
    assert errors == [], errors
    return results
