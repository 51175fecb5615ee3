"""How far a job is and when it should end, from a measure of its work (rows, bytes).

Pure: the caller gives the measure and the time. The estimate extrapolates the rate seen since
the measure was first reported (so a slow download before the first row does not skew it), and
never says 100 % before the job says it is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MAX_PERCENT = 99.0


@dataclass
class ProgressMeter:
    """The first reading of one measure (per feed of an ingest, say), to extrapolate from."""

    unit: str = ""
    first_at: datetime | None = None
    first_done: int = 0

    def reading(self, *, done: int, total: int | None, now: datetime) -> dict[str, Any]:
        """{"done", "total", "unit", "percent", "eta"} (eta an ISO time or None); {} when the
        total is not known."""
        if not total or total <= 0:
            return {}
        if self.first_at is None:
            self.first_at, self.first_done = now, done
        percent = min(done / total * 100, MAX_PERCENT)
        eta = progress_eta(done=done, total=total, since=self.first_at, done_since=self.first_done, now=now)
        return {
            "done": done,
            "total": total,
            "unit": self.unit,
            "percent": round(percent, 1),
            "eta": eta.isoformat() if eta else None,
        }


def progress_eta(
    *, done: int, total: int, since: datetime, done_since: int, now: datetime
) -> datetime | None:
    """When ``total`` is reached at the rate seen from (``since``, ``done_since``) to now; None
    before there is a rate to go by."""
    elapsed = (now - since).total_seconds()
    gained = done - done_since
    if elapsed <= 0 or gained <= 0:
        return None
    remaining = max(total - done, 0) * elapsed / gained
    return now + timedelta(seconds=remaining)
