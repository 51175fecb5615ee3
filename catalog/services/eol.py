"""End of life: products nobody has had in stock for EOL_DAYS are retired from the shop.

"Missing from one feed" is not EOL (that only zeroes the offer's stock); EOL is the catalog-wide
view over time, recomputed by the daily ``product_eol_check`` job.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from catalog.selectors import product_eol_rule, products_eol_candidates
from catalog.services.offers import FlagsResult, Reason, products_flags_set


def products_mark_eol(*, now: datetime | None = None, eol_days: int | None = None) -> FlagsResult:
    """Mark as EOL every product created more than ``eol_days`` ago with no stock since then.

    One query finds the candidates; each chunk re-checks the rule under the row lock (an offer
    arriving meanwhile wins), flips the flag, writes ``eol_marked`` events and queues the
    deactivation for products the shop knows.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=eol_days or settings.EOL_DAYS)
    candidates = products_eol_candidates(cutoff=cutoff)
    return products_flags_set(
        product_ids=candidates.values_list("id", flat=True).iterator(chunk_size=10_000),
        is_eol=True,
        reason=Reason.EOL_MARKED,
        condition=product_eol_rule(cutoff=cutoff),  # re-checked on each locked chunk
        event_note=f"no stock since {cutoff:%Y-%m-%d}",
        now=now,
    )


def products_revert_eol(
    *, product_ids: Iterable[int], run_id: int | None = None, now: datetime | None = None
) -> FlagsResult:
    """An offer in stock brings an EOL product back: clear the flag and reactivate it in the shop."""
    return products_flags_set(
        product_ids=product_ids,
        is_eol=False,
        reason=Reason.EOL_REVERTED,
        event_note="offer back in stock",
        run_id=run_id,
        now=now,
    )
