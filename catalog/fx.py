"""The European Central Bank's reference rates (``eurofxref-daily.xml``, also the 90-day and
historical files of the same shape), turned into rates to the shop's currency.

The ECB quotes how many units of each currency one euro buys (``CZK 25.025``). Genesys stores
what one unit of a currency is worth in the shop's currency: ``1 / 25.025`` for a euro shop,
and the cross rate ``X_shop / X_currency`` for any other shop currency the ECB quotes.

Security: entities are never expanded, no DTD is loaded, nothing is fetched from the network,
and a document with a DOCTYPE is refused outright (the ECB's files have none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from catalog.models.pricing import RATE_PLACES

ECB_NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
RATE_STEP = Decimal(1).scaleb(-RATE_PLACES)
MAX_BYTES = 5 * 1024 * 1024  # the full history since 1999 is about 3 MB


class RatesError(ValueError):
    """The document is not a readable ECB rates file."""


@dataclass(frozen=True, slots=True)
class Rate:
    day: date
    currency: str
    rate: Decimal  # 1 unit of ``currency`` in the shop's currency


def ecb_rates_parse(data: bytes, *, shop_currency: str) -> list[Rate]:
    """Every (day, currency) rate of the document, to ``shop_currency``; newest day first."""
    if len(data) > MAX_BYTES:
        raise RatesError(f"the document is larger than {MAX_BYTES} bytes")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise RatesError(f"not XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise RatesError("the document has a DOCTYPE; refused")
    days = root.findall(f".//{{{ECB_NAMESPACE}}}Cube[@time]")
    if not days:
        raise RatesError("no <Cube time=…> element: not an ECB reference rates file")
    rates: list[Rate] = []
    for cube in days:
        try:
            day = date.fromisoformat(cube.get("time", ""))
        except ValueError:
            raise RatesError(f"bad date {cube.get('time')!r}") from None
        per_euro = {"EUR": Decimal(1)}
        for quote in cube.findall(f"{{{ECB_NAMESPACE}}}Cube"):
            currency, value = quote.get("currency", ""), quote.get("rate", "")
            try:
                amount = Decimal(value)
            except InvalidOperation:
                raise RatesError(f"{day} {currency}: bad rate {value!r}") from None
            if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
                raise RatesError(f"{day}: bad currency code {currency!r}")
            if not amount.is_finite() or amount <= 0:
                raise RatesError(f"{day} {currency}: the rate must be above 0")
            per_euro[currency] = amount
        if shop_currency not in per_euro:
            raise RatesError(f"{day}: the ECB gives no rate for the shop's currency {shop_currency}")
        shop_per_euro = per_euro[shop_currency]
        for currency, amount in per_euro.items():
            if currency != shop_currency:
                value = (shop_per_euro / amount).quantize(RATE_STEP, rounding=ROUND_HALF_UP)
                rates.append(Rate(day, currency, value))
    rates.sort(key=lambda r: (r.day, r.currency), reverse=True)
    return rates
