"""Landed cost: what one unit of an offer really costs, net of VAT, in the shop's currency.

    landed = net x rate + shipping + net x rate x percentage
    net = feed price, less the VAT it includes (price / (1 + VAT rate))

Shipping is the supplier's fixed amount per item, plus its amount per order line (a unit's cost
bears all of it: Genesys prices an order of one), plus the band of its weight table that fits
the product's weight (the last band when the product has no weight or is heavier); nothing when
the converted net cost reaches the supplier's "free shipping above". The percentage (fees,
insurance, duties) applies always. Every step is Decimal, rounded half-up to 4 places (the
precision of money in the database) once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from django.utils.translation import gettext as _

MONEY_STEP = Decimal("0.0001")
ZERO = Decimal("0")


class WeightTableError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class WeightBand:
    up_to_kg: Decimal
    amount: Decimal


def weight_table_parse(value: Any) -> tuple[WeightBand, ...]:
    """The bands of a supplier's weight table (a JSON list), in increasing weight order."""
    if value in (None, "", []):
        return ()
    if not isinstance(value, list):
        raise WeightTableError('a list of {"up_to_kg": …, "amount": …} bands')
    bands = []
    for index, band in enumerate(value):
        if not isinstance(band, dict) or set(band) != {"up_to_kg", "amount"}:
            raise WeightTableError(f'band {index + 1}: give exactly "up_to_kg" and "amount"')
        try:
            up_to, amount = Decimal(str(band["up_to_kg"])), Decimal(str(band["amount"]))
        except InvalidOperation:
            raise WeightTableError(f"band {index + 1}: up_to_kg and amount must be numbers") from None
        if not up_to.is_finite() or not amount.is_finite() or up_to <= 0 or amount < 0:
            raise WeightTableError(f"band {index + 1}: up_to_kg must be above 0 and amount not negative")
        bands.append(WeightBand(up_to, amount))
    if any(a.up_to_kg >= b.up_to_kg for a, b in pairwise(bands)):
        raise WeightTableError("bands must be in increasing up_to_kg order")
    return tuple(bands)


@dataclass(frozen=True, slots=True)
class LandedRules:
    """A supplier's landed-cost rules; amounts in the shop's currency."""

    per_item: Decimal = ZERO
    per_line: Decimal = ZERO
    percent: Decimal = ZERO
    weight_bands: tuple[WeightBand, ...] = ()
    free_above: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FeedPricing:
    """How a feed states its prices."""

    currency: str
    includes_vat: bool = False
    vat_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LandedCost:
    feed_price: Decimal  # as the feed gave it
    currency: str
    vat_removed: Decimal  # in the feed's currency
    rate: Decimal  # 1 unit of the feed's currency in the shop's currency (1 when the same)
    converted: Decimal  # net, in the shop's currency, unrounded
    shipping: Decimal
    percent_amount: Decimal
    total: Decimal  # rounded to MONEY_STEP

    def explain(self, *, shop_currency: str) -> str:
        """E.g. "325.71 € = 7,990 CZK x 0.03957 + 9.50 € shipping"; "329.00 €" when nothing applies."""
        symbol = currency_symbol(shop_currency)
        total = f"{money_format(self.total, compact=False)} {symbol}"
        foreign = self.currency != shop_currency
        if not (foreign or self.vat_removed or self.shipping or self.percent_amount):
            return total
        if foreign:
            parts = [f"{money_format(self.feed_price)} {self.currency} × {rate_format(self.rate)}"]  # noqa: RUF001
        else:
            parts = [f"{money_format(self.feed_price)} {symbol}"]
        if self.vat_removed:
            parts[0] = _("(%(price)s less %(vat)s %(symbol)s VAT)") % {
                "price": parts[0],
                "vat": money_format(self.vat_removed * self.rate),
                "symbol": symbol,
            }
        if self.shipping:
            parts.append(
                _("%(amount)s %(symbol)s shipping")
                % {"amount": money_format(self.shipping), "symbol": symbol}
            )
        if self.percent_amount:
            parts.append(
                _("%(amount)s %(symbol)s costs")
                % {"amount": money_format(self.percent_amount), "symbol": symbol}
            )
        return f"{total} = " + " + ".join(parts)


def _shipping(rules: LandedRules, *, converted: Decimal, weight: Decimal | None) -> Decimal:
    if rules.free_above is not None and converted >= rules.free_above:
        return ZERO
    amount = rules.per_item + rules.per_line
    if rules.weight_bands:
        band = next(
            (b for b in rules.weight_bands if weight is not None and weight <= b.up_to_kg),
            rules.weight_bands[-1],
        )
        amount += band.amount
    return amount


def landed_cost_compute(
    *,
    price: Decimal,
    feed: FeedPricing,
    rate: Decimal,
    rules: LandedRules,
    weight: Decimal | None = None,
) -> LandedCost:
    """The landed cost of one unit offered at ``price`` in ``feed``'s terms."""
    net = price
    vat_removed = ZERO
    if feed.includes_vat and feed.vat_rate:
        net = price / (Decimal(1) + feed.vat_rate)
        vat_removed = price - net
    converted = net * rate
    shipping = _shipping(rules, converted=converted, weight=weight)
    percent_amount = (converted * rules.percent).quantize(MONEY_STEP, rounding=ROUND_HALF_UP)
    total = (converted + shipping + percent_amount).quantize(MONEY_STEP, rounding=ROUND_HALF_UP)
    return LandedCost(
        feed_price=price,
        currency=feed.currency,
        vat_removed=vat_removed,
        rate=rate,
        converted=converted,
        shipping=shipping,
        percent_amount=percent_amount,
        total=total,
    )


_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CZK": "Kč", "PLN": "zł", "CHF": "CHF"}


def currency_symbol(code: str) -> str:
    return _SYMBOLS.get(code, code)


def money_format(value: Decimal, *, compact: bool = True) -> str:
    """Two decimals with thousands separators, e.g. 325.71; ``compact`` drops ".00" (7,990)."""
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if compact and rounded == rounded.to_integral_value():
        return f"{rounded:,.0f}"
    return f"{rounded:,.2f}"


def rate_format(rate: Decimal) -> str:
    """Four significant digits: 0.03957, 1.082, 25.27."""
    if rate == 0:
        return "0"
    return f"{rate:.4g}" if Decimal("0.0001") <= abs(rate) < 10000 else f"{rate:.4e}"
