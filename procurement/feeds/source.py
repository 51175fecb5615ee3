"""``FeedSource``: everything the download and parse code needs to know about one feed.

The I/O code receives this frozen snapshot instead of a model instance, so it never touches the
ORM (no queries from inside a long download, and tests can build a source without a database).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from procurement.models import SupplierFeed


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A feed's settings as plain data; see docs/feeds.md for what each setting means."""

    url: str
    format: str
    format_options: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    auth_type: str = "none"
    auth_settings: dict[str, str] = field(default_factory=dict)
    pagination: dict[str, Any] = field(default_factory=dict)
    feed_id: int | None = None
    label: str = ""  # "Supplier / Feed", for messages

    @classmethod
    def from_feed(cls, feed: SupplierFeed) -> FeedSource:
        """Snapshot a ``SupplierFeed``; the JSON settings are deep-copied so later edits don't leak in."""
        return cls(
            url=feed.source_url.strip(),
            format=feed.format,
            format_options=_as_dict(feed.format_options),
            headers=_as_dict(feed.headers),
            auth_type=feed.auth_type or "none",
            auth_settings=_as_dict(feed.auth_settings),
            pagination=_as_dict(feed.pagination),
            feed_id=feed.pk,
            label=str(feed),
        )

    @property
    def is_local_file(self) -> bool:
        return self.url.startswith("file:")


def _as_dict(value: Any) -> dict[str, Any]:
    # A non-object value is kept as an empty dict here; options_parse reports the real problem
    # when it can (SupplierFeed.clean refuses non-objects on save anyway).
    return copy.deepcopy(value) if isinstance(value, dict) else {}
