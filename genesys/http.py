"""Retries for outbound HTTP: one policy and one schedule for the feeds and the shop clients.

Both download over ``requests`` and both retry the same way: a bounded number of attempts, delays
that double from a base up to a ceiling, jittered so parallel workers do not retry in lockstep,
never sooner than the server's ``Retry-After`` (capped at the ceiling), and never past a deadline
when the caller has one. What counts as worth another attempt stays with each caller (a feed GET
retries any 5xx; a shop create only when the shop surely did not process it).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` counts the first try; delays double from ``backoff_base`` up to ``backoff_max``
    and are multiplied by a random factor in ``jitter`` (by default half..full)."""

    attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    jitter: tuple[float, float] = (0.5, 1.0)

    def delay(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        delay = ceiling * random.uniform(*self.jitter)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds; ``None`` when absent or not delta-seconds (an HTTP date
    is not honoured: clocks differ, and the policy's own backoff applies)."""
    value = (value or "").strip()
    return float(value) if value.isdigit() else None


class RetrySchedule:
    """The attempts of one request under ``policy``, optionally within a deadline.

    ``remaining`` tells the seconds left before the caller's deadline (none: no deadline); a wait
    never sleeps past it. Use::

        schedule = RetrySchedule(policy)
        for attempt in schedule.attempts():
            ...                                   # try; on a failure worth another attempt:
            delay = schedule.next_delay(attempt, retry_after=...)
            if delay is None: ...                 # that was the last one: give up
            log(...); schedule.sleep(delay)
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        remaining: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.total = max(1, policy.attempts)
        self._remaining = remaining or (lambda: math.inf)
        self._sleep = sleep

    def attempts(self) -> range:
        return range(1, self.total + 1)

    def remaining(self) -> float:
        return self._remaining()

    def next_delay(self, attempt: int, *, retry_after: float | None = None) -> float | None:
        """The wait before the attempt after ``attempt``, or ``None`` when ``attempt`` was the last.
        (A deadline that has passed leaves the wait at zero: the caller's next attempt sees it.)"""
        if attempt >= self.total:
            return None
        return self.policy.delay(attempt, retry_after=retry_after)

    def sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds, or until the deadline when that comes first."""
        self._sleep(max(min(delay, self.remaining()), 0.0))
