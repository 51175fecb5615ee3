"""Adding up the counters of a run's parts (chunks, batches) into its total.

Results are dataclasses of counters; a run adds each part's into its total. ``counters_add`` is
the one way to do it: numbers are summed, lists extended, sets united, field by field, so a new
counter cannot be forgotten in one of several hand-written ``add`` methods.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Iterable
from typing import Any


def counters_add(total: Any, part: Any, *, fields: Iterable[str] | None = None) -> Any:
    """Add ``part``'s counters into ``total`` (both dataclass instances; ``part`` may be of another
    class: the fields ``total`` has are added). ``fields`` limits which; returns ``total``.

    Numbers (int, float, Decimal) are summed, lists extended, sets united; a field of another
    type is a ``TypeError`` (a flag or a text is not a counter: leave it out with ``fields``)."""
    names = list(fields) if fields is not None else [f.name for f in dataclasses.fields(total)]
    for name in names:
        if not hasattr(part, name):
            continue
        mine, theirs = getattr(total, name), getattr(part, name)
        if isinstance(mine, bool) or isinstance(theirs, bool):
            raise TypeError(f"{name} is a flag, not a counter")
        if isinstance(mine, list):
            mine.extend(theirs)
        elif isinstance(mine, set):
            mine |= theirs
        elif isinstance(mine, numbers.Number):
            setattr(total, name, mine + theirs)
        else:
            raise TypeError(f"{name} ({type(mine).__name__}) is not a counter")
    return total
