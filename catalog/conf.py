"""Catalog settings as policy objects (the policies themselves never read settings)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from catalog.policies.guard import GuardLimits
from catalog.policies.identity import IdentityThresholds
from catalog.policies.pricing import PriceRounding


def price_rounding() -> PriceRounding:
    return PriceRounding(step=settings.GENESYS_PRICE_ROUNDING_STEP, mode=settings.GENESYS_PRICE_ROUNDING_MODE)


def default_margin() -> Decimal:
    return settings.GENESYS_DEFAULT_MARGIN


def identity_thresholds() -> IdentityThresholds:
    return IdentityThresholds(
        name_similarity=float(settings.GENESYS_IDENTITY_NAME_SIMILARITY),
        price_factor=settings.GENESYS_IDENTITY_PRICE_FACTOR,
    )


def outlier_factor() -> Decimal:
    return settings.GENESYS_OUTLIER_PRICE_FACTOR


def outlier_release_tolerance() -> Decimal:
    return settings.GENESYS_OUTLIER_RELEASE_TOLERANCE


def guard_limits() -> GuardLimits:
    return GuardLimits(
        max_change=settings.GENESYS_PRICE_CHANGE_LIMIT, min_margin=settings.GENESYS_PRICE_MIN_MARGIN
    )
