"""Saving a feed's mapper profile from the mapper editor."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from procurement.feeds.profile import profile_validate
from procurement.models import FeedMapper, SupplierFeed


def feed_mapper_save(*, feed: SupplierFeed, profile: dict[str, Any]) -> FeedMapper:
    """Validate ``profile`` and store it in the feed's active mapper (a "default" one if none is).

    Raises ``ValidationError`` with the same messages as the mapper's JSON field. The next ingest
    maps every item again: the profile is part of each item's fingerprint (``feeds.known``).
    """
    profile_validate(profile)
    with transaction.atomic():
        mapper = FeedMapper.objects.select_for_update().filter(feed=feed, is_active=True).first()
        if mapper is None:
            mapper = FeedMapper(feed=feed, name="default", is_active=True)
        mapper.profile = profile
        mapper.save()
    return mapper
