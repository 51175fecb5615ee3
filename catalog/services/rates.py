"""Exchange rates: the daily refresh from the configured source, hand edits, and the check a
feed in a foreign currency makes before its ingest writes anything."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.fx import MAX_BYTES, Rate, RatesError, ecb_rates_parse
from catalog.models import CurrencyRate
from catalog.selectors import currency_rates_latest, product_ids_offered_in_currencies
from catalog.services.dirty import products_mark_dirty
from genesys.outbound import outbound_session

FETCH_TIMEOUT = (5, 30)  # seconds: connect, read


@dataclass
class RatesRefreshResult:
    days: int = 0
    written: int = 0
    currencies_changed: list[str] | None = None
    products_marked: int = 0


def rates_fetch(*, url: str) -> bytes:
    """The source document over HTTP(S) through the outbound policy (genesys.outbound), no
    credentials, read up to the parser's size limit."""
    with (
        outbound_session() as session,
        session.get(
            url, timeout=FETCH_TIMEOUT, headers={"Accept": "application/xml"}, stream=True
        ) as response,
    ):
        response.raise_for_status()
        data = response.raw.read(MAX_BYTES + 1, decode_content=True)
    if len(data) > MAX_BYTES:
        raise RatesError(f"the rates document is larger than {MAX_BYTES} bytes")
    return data


def currency_rates_refresh(*, url: str | None = None, now=None) -> RatesRefreshResult:
    """Fetch the reference rates and store them; mark the products whose costs move.

    Rows entered by hand for a day are left alone: an operator's correction wins over the feed.
    """
    data = rates_fetch(url=url or settings.GENESYS_FX_SOURCE_URL)
    rates = ecb_rates_parse(data, shop_currency=settings.GENESYS_SHOP_CURRENCY)
    return currency_rates_store(rates=rates, source=CurrencyRate.Source.ECB, now=now)


@transaction.atomic
def currency_rates_store(*, rates: Iterable[Rate], source: str, now=None) -> RatesRefreshResult:
    """Upsert rates (a hand-entered row of a day wins over a source's); products in a currency
    whose newest rate changed are marked for the catalog step."""
    now = now or timezone.now()
    rates = list(rates)
    before = currency_rates_latest()
    existing = {
        (row.currency, row.date): row
        for row in CurrencyRate.objects.filter(
            date__in={r.day for r in rates}, currency__in={r.currency for r in rates}
        )
    }
    create, update = [], []
    for rate in rates:
        row = existing.get((rate.currency, rate.day))
        if row is None:
            create.append(CurrencyRate(date=rate.day, currency=rate.currency, rate=rate.rate, source=source,
                                       updated_at=now))  # fmt: skip
        elif row.source == source and row.rate != rate.rate:
            row.rate, row.updated_at = rate.rate, now
            update.append(row)
    CurrencyRate.objects.bulk_create(create)
    CurrencyRate.objects.bulk_update(update, ["rate", "updated_at"])
    result = RatesRefreshResult(days=len({r.day for r in rates}), written=len(create) + len(update))
    after = currency_rates_latest()
    changed = sorted(c for c in after if before.get(c) != after[c])
    result.currencies_changed = changed
    result.products_marked = products_mark_dirty_for_currencies(currencies=changed)
    return result


def products_mark_dirty_for_currencies(*, currencies: Iterable[str]) -> int:
    """Mark every product with an offer from a feed priced in these currencies."""
    currencies = [c for c in currencies if c != settings.GENESYS_SHOP_CURRENCY]
    if not currencies:
        return 0
    ids = product_ids_offered_in_currencies(currencies=currencies)
    return products_mark_dirty(product_ids=ids.iterator(chunk_size=10_000))


def currency_rate_fresh(*, currency: str, today: date | None = None) -> CurrencyRate | None:
    """The newest rate of ``currency`` if it is at most GENESYS_FX_MAX_AGE_DAYS days old."""
    today = today or timezone.localdate()
    oldest = today - timedelta(days=settings.GENESYS_FX_MAX_AGE_DAYS)
    return CurrencyRate.objects.filter(currency=currency, date__gte=oldest).order_by("-date").first()


@transaction.atomic
def currency_rate_save(*, rate: CurrencyRate) -> CurrencyRate:
    """An operator's rate: kept as entered (the job never overwrites it); costs follow."""
    before = currency_rates_latest().get(rate.currency)
    rate.source = CurrencyRate.Source.MANUAL
    rate.updated_at = timezone.now()
    rate.save()
    if currency_rates_latest().get(rate.currency) != before:
        products_mark_dirty_for_currencies(currencies=[rate.currency])
    return rate


@transaction.atomic
def currency_rate_delete(*, rate: CurrencyRate) -> None:
    before = currency_rates_latest().get(rate.currency)
    rate.delete()
    if currency_rates_latest().get(rate.currency) != before:
        products_mark_dirty_for_currencies(currencies=[rate.currency])
