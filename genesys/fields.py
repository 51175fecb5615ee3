"""Field conventions shared by the apps: money is Decimal with fixed precision everywhere."""

from __future__ import annotations

from typing import Any

from django.db import models

MONEY_DIGITS = 14
MONEY_PLACES = 4
MARGIN_DIGITS = 7
MARGIN_PLACES = 4


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    """Prices and costs: 4 decimal places (suppliers quote fractions of a cent), net of tax."""
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


def margin_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    """Margins are fractions: 0.2500 means selling price = cost x 1.25."""
    return models.DecimalField(verbose_name, max_digits=MARGIN_DIGITS, decimal_places=MARGIN_PLACES, **kwargs)
