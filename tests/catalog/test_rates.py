"""Exchange rates: the daily job reads the ECB file over HTTP (a local copy), hand edits win,
and every change marks the products whose costs move."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import CurrencyRate, DirtyProduct
from catalog.services.rates import currency_rate_fresh, currency_rates_refresh
from genesys.jobs.enqueue import job_enqueue
from genesys.models import JobRun
from tests.factories import CurrencyRateFactory, SupplierFeedFactory, SupplierItemFactory
from tests.support.jobs import jobs_work

pytestmark = pytest.mark.django_db
SAMPLE = (Path(__file__).parent / "fixtures" / "eurofxref-daily.xml").read_bytes()
D = Decimal


@pytest.fixture
def ecb(feed_server, settings):
    feed_server.route(
        "/stats/eurofxref/eurofxref-daily.xml", body=SAMPLE, headers={"Content-Type": "text/xml"}
    )
    settings.GENESYS_FX_SOURCE_URL = feed_server.url("/stats/eurofxref/eurofxref-daily.xml")
    return feed_server


def test_the_refresh_stores_the_days_rates_and_marks_products_priced_in_a_changed_currency(ecb):
    czk_offer = SupplierItemFactory(feed=SupplierFeedFactory(currency="CZK"))
    eur_offer = SupplierItemFactory()

    result = currency_rates_refresh()

    assert (result.days, result.written) == (1, 30)
    rate = CurrencyRate.objects.get(currency="CZK")
    assert (rate.date, rate.rate, rate.source) == (date(2024, 6, 28), D("0.0399600400"), "ecb")
    assert "CZK" in result.currencies_changed
    assert set(DirtyProduct.objects.values_list("product_id", flat=True)) == {czk_offer.product_id}
    assert eur_offer.product_id not in set(DirtyProduct.objects.values_list("product_id", flat=True))

    DirtyProduct.objects.all().delete()
    again = currency_rates_refresh()
    assert (again.written, again.currencies_changed, again.products_marked) == (0, [], 0)
    assert not DirtyProduct.objects.exists()


def test_a_rate_entered_by_hand_for_the_day_is_never_overwritten(ecb):
    CurrencyRateFactory(date=date(2024, 6, 28), currency="CZK", rate=D("0.04"), source="manual")
    currency_rates_refresh()
    assert CurrencyRate.objects.get(currency="CZK").rate == D("0.04")


@pytest.mark.django_db(transaction=True)
def test_the_job_kind_refreshes_the_rates(ecb):
    job_enqueue(kind="currency_rates_refresh", triggered_by="test")
    jobs_work("maintenance")
    run = JobRun.objects.get(kind="currency_rates_refresh")
    assert run.status == "success" and run.summary["rates_written"] == 30


@pytest.mark.django_db(transaction=True)
def test_a_broken_source_fails_the_job_and_changes_nothing(feed_server, settings):
    feed_server.route("/rates.xml", body=b"<html>maintenance</html>")
    settings.GENESYS_FX_SOURCE_URL = feed_server.url("/rates.xml")
    job_enqueue(kind="currency_rates_refresh", triggered_by="test")
    jobs_work("maintenance")
    run = JobRun.objects.filter(kind="currency_rates_refresh").order_by("id").first()
    assert "not an ECB reference rates file" in run.error
    assert not CurrencyRate.objects.exists()


def test_a_rate_is_fresh_for_the_configured_number_of_days(settings):
    settings.GENESYS_FX_MAX_AGE_DAYS = 3
    today = timezone.localdate()
    CurrencyRateFactory(currency="CZK", date=today - timedelta(days=4))
    assert currency_rate_fresh(currency="CZK", today=today) is None
    CurrencyRateFactory(currency="CZK", date=today - timedelta(days=3))
    assert currency_rate_fresh(currency="CZK", today=today).date == today - timedelta(days=3)


def test_a_rate_edited_in_the_admin_is_kept_as_manual_and_moves_the_costs(staff_client):
    offer = SupplierItemFactory(feed=SupplierFeedFactory(currency="CZK"))
    response = staff_client.post(
        reverse("admin:catalog_currencyrate_add"),
        {"date": timezone.localdate().isoformat(), "currency": "CZK", "rate": "0.0395726"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CurrencyRate.objects.get().source == "manual"
    assert DirtyProduct.objects.filter(product_id=offer.product_id).exists()
