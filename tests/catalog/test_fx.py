"""The ECB reference-rates parser, on a real copy of eurofxref-daily.xml."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from catalog.fx import RatesError, ecb_rates_parse

SAMPLE = (Path(__file__).parent / "fixtures" / "eurofxref-daily.xml").read_bytes()


def test_the_real_daily_file_gives_every_currency_to_the_euro():
    rates = {r.currency: r for r in ecb_rates_parse(SAMPLE, shop_currency="EUR")}
    assert len(rates) == 30
    czk = rates["CZK"]
    assert czk.day == date(2024, 6, 28)
    assert czk.rate == Decimal("0.0399600400")  # 1 / 25.025, to 10 places
    assert rates["USD"].rate == Decimal("0.9341429239")
    assert "EUR" not in rates


def test_another_shop_currency_gets_cross_rates_and_the_euro_itself():
    rates = {r.currency: r.rate for r in ecb_rates_parse(SAMPLE, shop_currency="CZK")}
    assert rates["EUR"] == Decimal("25.0250000000")
    assert rates["USD"] == Decimal("23.3769266698")  # 25.025 / 1.0705
    assert "CZK" not in rates


def test_a_shop_currency_the_ecb_does_not_quote_is_an_error():
    with pytest.raises(RatesError, match="no rate for the shop's currency XAU"):
        ecb_rates_parse(SAMPLE, shop_currency="XAU")


def test_entities_and_doctypes_are_refused_and_nothing_is_fetched():
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]>'
        b'<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
        b'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time="2024-06-28">'
        b'<Cube currency="USD" rate="&e;"/></Cube></Cube></gesmes:Envelope>'
    )
    with pytest.raises(RatesError):
        ecb_rates_parse(evil, shop_currency="EUR")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not xml", "not XML"),
        (b"<html><body>maintenance</body></html>", "not an ECB reference rates file"),
        (SAMPLE.replace(b"rate='25.025'", b"rate='-1'"), "CZK: the rate must be above 0"),
        (SAMPLE.replace(b"rate='25.025'", b"rate='abc'"), "CZK: bad rate"),
        (SAMPLE.replace(b"time='2024-06-28'", b"time='yesterday'"), "bad date"),
    ],
)
def test_a_broken_document_is_a_clear_error(body, message):
    with pytest.raises(RatesError, match=message):
        ecb_rates_parse(body, shop_currency="EUR")
