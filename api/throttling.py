"""Per-token throttles on the shared (Redis) cache: all requests, and jobs asked for.

A session counts as its user. A bulk request costs one unit per item, so splitting a flood into
bulk requests gains nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken


class ApiRequestThrottle(SimpleRateThrottle):
    scope = "api_requests"
    num_requests: int
    duration: int

    def parse_rate(self, rate: str | None) -> tuple[int, int]:
        """DRF's, for the rate get_rate always names (DRF's allows none, meaning no limit)."""
        num_requests, duration = super().parse_rate(rate)
        if num_requests is None or duration is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a rate, not {rate!r}")
        return num_requests, duration

    def get_rate(self) -> str:
        return f"{settings.API_REQUESTS_PER_MINUTE}/min"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user{request.user.pk}"
        else:
            return None  # anonymous callers never get this far (401)
        return f"api:throttle:{self.scope}:{ident}"

    def cost(self, request: Any, view: Any) -> int:
        return 1

    def allow_request(self, request: Any, view: Any) -> bool:
        # DRF's, with a cost per request instead of one.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        cost = self.cost(request, view)
        if self.key is None or cost == 0:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) + cost > self.num_requests:
            return self.throttle_failure()
        self.history[:0] = [self.now] * cost
        self.cache.set(self.key, self.history, self.duration)
        return True

    def wait(self) -> float | None:
        if not self.history:
            return float(self.duration)
        return super().wait()


class ApiJobsThrottle(ApiRequestThrottle):
    """Jobs asked for: the view's ``throttle_cost(request)`` (items of a bulk request)."""

    scope = "api_jobs"

    def get_rate(self) -> str:
        return f"{settings.API_JOBS_PER_MINUTE}/min"

    def cost(self, request: Any, view: Any) -> int:
        if request.method != "POST":
            return 0
        counter = getattr(view, "throttle_cost", None)
        return counter(request) if counter else 1
