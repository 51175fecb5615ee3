"""The catalog's checks for /healthz: the shop updates and the recompute marks are being drained."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from catalog.models import CatalogUpdateStream, DirtyProduct
from genesys.health import health_check


@health_check("stream")
def check_stream() -> dict[str, Any]:
    """The oldest sendable shop update is at most HEALTH_STREAM_MAX_AGE_SECONDS old."""
    oldest = (
        CatalogUpdateStream.objects.filter(
            status=CatalogUpdateStream.Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            product__id_ecommerce__isnull=False,
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    age = round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0
    return {"ok": age <= settings.HEALTH_STREAM_MAX_AGE_SECONDS, "oldest_pending_age_s": age}


@health_check("recompute")
def check_recompute() -> dict[str, Any]:
    """Products an ingest changed wait for the catalog step at most this long: older marks
    mean neither the ingests nor the 30 s sweep are draining them (catalog.services.dirty)."""
    marks = DirtyProduct.objects.order_by("marked_at").values_list("marked_at", flat=True)
    oldest = marks.first()
    age = round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0
    return {
        "ok": age <= settings.HEALTH_RECOMPUTE_MAX_AGE_SECONDS,
        "oldest_dirty_age_s": age,
        "dirty_products": DirtyProduct.objects.count() if oldest else 0,
    }
