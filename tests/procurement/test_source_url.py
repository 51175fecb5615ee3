"""What a feed's source URL may be: no credentials, no internal addresses, no path outside FEEDS_ROOT."""

import importlib
import json

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from procurement.feeds.source_url import url_credentials_find, url_without_credentials
from procurement.models import SupplierFeed
from procurement.services.config_io import ConfigImportError, suppliers_export, suppliers_import
from tests.factories import SupplierFactory, SupplierFeedFactory

pytestmark = pytest.mark.django_db


def _feed(**kwargs) -> SupplierFeed:
    return SupplierFeed(supplier=SupplierFactory(), name="feed", format="csv", **kwargs)


def _problems(feed: SupplierFeed) -> str:
    with pytest.raises(ValidationError) as excinfo:
        feed.full_clean()
    return " ".join(excinfo.value.message_dict["source_url"])


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://feeds.example.com/p.csv?token=abc123", "token"),
        ("https://feeds.example.com/p.csv?page=1&api_key=abc123", "api_key"),
        ("https://feeds.example.com/p.csv?X-Amz-Signature=abc123", "X-Amz-Signature"),
        ("https://feeds.example.com/p.csv?client_secret=abc123", "client_secret"),
        ("https://feeds.example.com/p.csv?password=abc123", "password"),
        ("https://feeds.example.com/p.csv?accessToken=abc123", "accessToken"),
        ("https://shop:abc123@feeds.example.com/p.csv", "user name or password"),
    ],
)
def test_a_url_with_credentials_is_refused_pointing_to_the_auth_settings(url, shown):
    message = _problems(_feed(source_url=url))
    assert shown in message
    assert "abc123" not in message
    assert "value_env" in message and "username_env" in message


def test_a_url_without_credentials_is_accepted():
    _feed(source_url="https://feeds.example.com/p.csv?page=1&lang=pt&format=csv").full_clean()


def test_a_feed_pointing_at_an_internal_address_is_refused_on_save(settings):
    settings.OUTBOUND_ALLOW_HOSTS = []
    for url in [
        "http://127.0.0.1:6379/",
        "http://0x7f.1/",
        "http://169.254.169.254/latest/",
        "http://localhost/",
    ]:
        assert "cannot be fetched" in _problems(_feed(source_url=url)), url
    settings.OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    _feed(source_url="http://127.0.0.1:8082/feed.csv").full_clean()


def test_other_schemes_are_refused():
    assert "http(s)://" in _problems(_feed(source_url="ftp://feeds.example.com/p.csv"))
    assert "http(s)://" in _problems(_feed(source_url="gopher://127.0.0.1:6379/_INFO"))


def test_a_file_source_must_stay_under_feeds_root(feeds_root, tmp_path):
    (feeds_root / "acme").mkdir()
    (feeds_root / "acme" / "p.csv").write_text("sku\n")
    _feed(source_url="file:acme/p.csv").full_clean()
    _feed(source_url="file:acme/not-yet-there.csv").full_clean()  # dropped later: fine
    assert "without '..'" in _problems(_feed(source_url="file:../etc/passwd"))
    assert "without '..'" in _problems(_feed(source_url="file:/etc/passwd"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (feeds_root / "escape").symlink_to(outside)
    assert "symbolic link" in _problems(_feed(source_url="file:escape/p.csv"))


def test_import_suppliers_refuses_credentials_in_a_url():
    data = {
        "suppliers": [
            {
                "name": "Acme",
                "feeds": [
                    {"name": "main", "format": "csv", "source_url": "https://x.example/p.csv?key=abc123"}
                ],
            }
        ]
    }
    with pytest.raises(ConfigImportError) as excinfo:
        suppliers_import(data=data)
    text = json.dumps(excinfo.value.errors)
    assert "source_url" in text and "abc123" not in text


def test_export_never_outputs_a_credential_even_one_saved_before_the_check():
    feed = SupplierFeedFactory(source_url="https://feeds.example.com/p.csv")
    SupplierFeed.objects.filter(pk=feed.pk).update(
        source_url="https://u:abc123@feeds.example.com/p.csv?token=abc123"
    )
    assert "abc123" not in json.dumps(suppliers_export())


def test_the_redacted_url_keeps_everything_else():
    url = "https://u:pw@feeds.example.com/p.csv?page=2&token=abc&lang=pt"
    assert url_credentials_find(url).params == ("token",)
    assert url_without_credentials(url) == "https://feeds.example.com/p.csv?page=2&lang=pt"


def _migrate_credentials() -> None:
    migration = importlib.import_module("procurement.migrations.0008_move_credentials_out_of_source_urls")
    migration.credentials_move(apps, None)


def test_the_migration_moves_a_query_key_to_an_environment_variable_reference():
    feed = SupplierFeedFactory(source_url="https://feeds.example.com/p.csv")
    SupplierFeed.objects.filter(pk=feed.pk).update(
        source_url="https://feeds.example.com/p.csv?page=1&apikey=abc123"
    )
    _migrate_credentials()
    feed.refresh_from_db()
    env = f"GENESYS_FEED_{feed.pk}_APIKEY"
    assert feed.source_url == "https://feeds.example.com/p.csv?page=1"
    assert (feed.auth_type, feed.auth_settings) == ("query", {"param": "apikey", "value_env": env})
    assert feed.url_credentials_removed == {"env": [env]}
    assert feed.is_active
    feed.full_clean()


def test_the_migration_moves_user_and_password_to_basic_authentication():
    feed = SupplierFeedFactory(source_url="https://feeds.example.com/p.csv")
    SupplierFeed.objects.filter(pk=feed.pk).update(source_url="https://shop:abc123@feeds.example.com/p.csv")
    _migrate_credentials()
    feed.refresh_from_db()
    assert feed.source_url == "https://feeds.example.com/p.csv"
    assert feed.auth_type == "basic"
    assert feed.auth_settings == {
        "username_env": f"GENESYS_FEED_{feed.pk}_USERNAME",
        "password_env": f"GENESYS_FEED_{feed.pk}_PASSWORD",
    }


def test_the_migration_flags_and_deactivates_what_the_auth_settings_cannot_carry():
    feed = SupplierFeedFactory(
        source_url="https://feeds.example.com/p.csv", auth_type="bearer", auth_settings={"token_env": "T"}
    )
    SupplierFeed.objects.filter(pk=feed.pk).update(
        source_url="https://feeds.example.com/p.csv?sig=abc123&key=def"
    )
    _migrate_credentials()
    feed.refresh_from_db()
    assert feed.source_url == "https://feeds.example.com/p.csv"
    assert not feed.is_active
    assert feed.url_credentials_removed == {"params": ["sig", "key"], "userinfo": False}
    assert "abc123" not in json.dumps(suppliers_export())


def test_the_feed_page_shows_the_warning_until_the_feed_is_saved(staff_client):
    feed = SupplierFeedFactory(source_url="https://feeds.example.com/p.csv")
    SupplierFeed.objects.filter(pk=feed.pk).update(source_url="https://feeds.example.com/p.csv?token=abc123")
    _migrate_credentials()
    page = staff_client.get(f"/admin/procurement/supplierfeed/{feed.pk}/change/").content.decode()
    assert f"GENESYS_FEED_{feed.pk}_TOKEN" in page
    assert "abc123" not in page
