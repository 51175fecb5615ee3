import pytest
from django.core.management import call_command

from procurement.models import FeedMapper, Supplier, SupplierFeed

pytestmark = pytest.mark.django_db


def test_load_demo_creates_suppliers_feeds_and_mappers(feeds_root):
    call_command("load_demo", "--feed-server-url", "http://127.0.0.1:9999")
    assert set(Supplier.objects.values_list("name", flat=True)) == {"Distrilusa", "Nortech", "EuroElectro"}
    formats = dict(SupplierFeed.objects.values_list("supplier__name", "format"))
    assert formats == {"Distrilusa": "csv", "Nortech": "json", "EuroElectro": "xml"}
    assert FeedMapper.objects.filter(is_active=True).count() == 3
    api = SupplierFeed.objects.get(supplier__name="Nortech")
    assert api.source_url.startswith("http://127.0.0.1:9999/")
    assert api.auth_settings == {"token_env": "NORTECH_API_TOKEN"}
    assert api.pagination["type"] == "page"


def test_load_demo_copies_the_sample_files_under_feeds_root(feeds_root):
    call_command("load_demo")
    csv_file = feeds_root / "demo" / "distrilusa" / "tarifa.csv"
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel's BOM, on purpose
    assert "1.171,98" in csv_file.read_text(encoding="utf-8-sig")
    assert (feeds_root / "demo" / "euroelectro" / "google-merchant.xml").exists()
    for feed in SupplierFeed.objects.filter(source_url__startswith="file:"):
        assert (feeds_root / feed.source_url.removeprefix("file:")).is_file()


def test_load_demo_is_idempotent(feeds_root):
    call_command("load_demo")
    call_command("load_demo")
    assert Supplier.objects.count() == 3
    assert SupplierFeed.objects.count() == 3
    assert FeedMapper.objects.count() == 3


def test_load_demo_says_how_to_allow_its_loopback_feed_server(feeds_root, settings):
    from django.core.management.base import CommandError

    settings.OUTBOUND_ALLOW_HOSTS = []
    with pytest.raises(CommandError, match=r"OUTBOUND_ALLOW_HOSTS=127\.0\.0\.1,::1"):
        call_command("load_demo", stdout=None)
    assert not Supplier.objects.exists()


def test_load_demo_never_overwrites_what_an_operator_changed(feeds_root):
    call_command("load_demo")
    Supplier.objects.filter(name="Distrilusa").update(margin="0.3300", ingest_interval_minutes=15)
    SupplierFeed.objects.filter(supplier__name="Nortech").update(is_active=False)
    csv_file = feeds_root / "demo" / "distrilusa" / "tarifa.csv"
    csv_file.write_text("sku;price\n", encoding="utf-8")

    call_command("load_demo")  # what every make run does

    distrilusa = Supplier.objects.get(name="Distrilusa")
    assert (str(distrilusa.margin), distrilusa.ingest_interval_minutes) == ("0.3300", 15)
    assert not SupplierFeed.objects.get(supplier__name="Nortech").is_active
    assert csv_file.read_text(encoding="utf-8") == "sku;price\n"

    call_command("load_demo", "--reset")
    assert str(Supplier.objects.get(name="Distrilusa").margin) == "0.1800"
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")
