"""Pure ingest rules: no database. The writer applies them to whole chunks of rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class UnseenDecision:
    apply: bool
    reason: str


def unseen_guard(
    *,
    completed: bool,
    rows_valid: int,
    baseline_valid: int | None,
    min_ratio: Decimal,
    forced: bool,
) -> UnseenDecision:
    """Whether offers missing from this run may be zeroed.

    An empty or truncated feed must never zero a catalog: the step runs only when the read
    completed, read at least one valid row, and read at least ``min_ratio`` of the valid rows of
    the last successful run. An operator may force it for one run.
    """
    if forced:
        return UnseenDecision(True, "forced by an operator")
    if not completed:
        return UnseenDecision(False, "the feed was not read to the end")
    if rows_valid == 0:
        return UnseenDecision(False, "no valid row was read")
    if baseline_valid:
        needed = Decimal(baseline_valid) * min_ratio
        if rows_valid < needed:
            return UnseenDecision(
                False,
                f"{rows_valid} valid rows is below {min_ratio:.0%} of the last successful run "
                f"({baseline_valid} rows)",
            )
    return UnseenDecision(True, "")


@dataclass(frozen=True, slots=True)
class StoredOffer:
    item_id: int
    product_id: int
    price: Decimal
    stock: int
    row_hash: str
    last_read_run_id: int | None
    raw_hash: str = ""


def offer_change_kind(*, stored: StoredOffer | None, row_hash: str) -> str:
    """ "new", "unchanged" (the same mapped row as last time) or "changed"."""
    if stored is None:
        return "new"
    if stored.row_hash == row_hash:
        return "unchanged"
    return "changed"


def rows_last_wins(rows: Iterable[Any]) -> tuple[list[Any], list[str]]:
    """Keep the last row of each SKU (a feed listing a SKU twice means the later line wins).

    Returns the rows kept and the SKU of each line dropped (a SKU listed three times twice).
    """
    by_sku: dict[str, Any] = {}
    duplicates: list[str] = []
    for row in rows:
        if row.sku in by_sku:
            duplicates.append(row.sku)
            del by_sku[row.sku]  # re-insert so the kept row sits at the later position
        by_sku[row.sku] = row
    return list(by_sku.values()), duplicates
