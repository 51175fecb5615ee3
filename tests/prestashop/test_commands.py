"""prestashop_check against the fake shop; fake_prestashop runs as a process in test_fake_shop."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from prestashop.fake import DEFAULT_TEST_KEY


def run_check(*args):
    out = StringIO()
    call_command("prestashop_check", *args, stdout=out)
    return out.getvalue()


def test_check_reports_a_working_shop(shop_settings):
    output = run_check()
    assert "backend webservice at http://127.0.0.1:" in output
    assert "reachable    yes" in output and "authorized   yes" in output
    assert "version      8.1.5; updates use PATCH" in output
    assert "languages    1 pt Português (Portuguese), 2 en English (English)" in output
    assert "products               GET PUT PATCH POST DELETE HEAD" in output
    assert "missing      none" in output
    assert "Shop connection OK." in output
    assert DEFAULT_TEST_KEY not in output


def test_check_of_an_old_shop_and_of_the_module(shop_settings, fake_shop):
    fake_shop.version = "1.7.8.11"
    assert "updates use GET then PUT" in run_check()
    output = run_check("--backend", "r_genesys")
    assert "backend r_genesys at" in output and "updateproducts         POST" in output


def test_check_fails_on_missing_permissions(shop_settings, fake_shop):
    key = "CHECKKEYCHECKKEYCHECKKEYCHECKKEY"
    fake_shop.grant(key, {"products": ["GET", "PATCH"], "languages": ["GET"], "categories": ["GET"]})
    shop_settings.PRESTASHOP_API_KEY = key
    out = StringIO()
    with pytest.raises(CommandError, match=r"lacks permissions Genesys needs: .*products: POST"):
        call_command("prestashop_check", stdout=out)
    assert "stock_availables: GET" in out.getvalue()


def test_check_fails_on_a_refused_key(shop_settings):
    shop_settings.PRESTASHOP_API_KEY = "K" * 32
    with pytest.raises(CommandError, match=r"cannot use the shop: .*401.*error 20") as caught:
        run_check()
    assert "K" * 32 not in str(caught.value)


def test_check_fails_when_unreachable(shop_settings):
    with pytest.raises(CommandError, match="not reachable"):
        run_check("--url", "http://127.0.0.1:9")


def test_check_without_configuration(settings):
    settings.PRESTASHOP_URL = ""
    with pytest.raises(CommandError, match="PRESTASHOP_URL is not set"):
        run_check()
