"""Strict parsing of the environment: bad values stop start-up with the variable's name."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from genesys.env import Env, parse_database_url


def env(**values) -> Env:
    return Env(values)


@pytest.mark.parametrize("raw", ["1", "true", "YES", "on"])
def test_booleans_true(raw):
    assert env(DEBUG=raw).bool("DEBUG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off"])
def test_booleans_false(raw):
    assert env(DEBUG=raw).bool("DEBUG", True) is False


def test_unset_or_blank_takes_the_default():
    assert env().bool("DEBUG", True) is True
    assert env(DEBUG="  ").bool("DEBUG", False) is False


def test_bad_boolean_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG must be a boolean.*'maybe'"):
        env(DEBUG="maybe").bool("DEBUG", False)


def test_integers_with_bounds():
    assert env(N="5").int("N", 1, min_value=1) == 5
    with pytest.raises(ImproperlyConfigured, match="N must be an integer; got 'five'"):
        env(N="five").int("N", 1)
    with pytest.raises(ImproperlyConfigured, match="N must be at least 1; got 0"):
        env(N="0").int("N", 1, min_value=1)


def test_decimal():
    assert str(env(M="0.25").decimal("M", "0.2")) == "0.25"
    with pytest.raises(ImproperlyConfigured, match="M must be a decimal number"):
        env(M="0,25").decimal("M", "0.2")
    with pytest.raises(ImproperlyConfigured, match="M must be at least 0"):
        env(M="-1").decimal("M", "0.2", min_value="0")


def test_lists():
    assert env(H="a.com, b.com").list("H", []) == ["a.com", "b.com"]
    with pytest.raises(ImproperlyConfigured, match="H must be a comma-separated list"):
        env(H="a.com,,b.com").list("H", [])


def test_choices():
    assert env(B="r_genesys").str("B", "webservice", choices=["webservice", "r_genesys"]) == "r_genesys"
    with pytest.raises(ImproperlyConfigured, match="B must be one of webservice, r_genesys; got 'soap'"):
        env(B="soap").str("B", "webservice", choices=["webservice", "r_genesys"])


def test_required_value():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is required"):
        env().secret("SECRET_KEY")


def test_secret_from_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    assert env(SECRET_KEY_FILE=str(secret)).secret("SECRET_KEY") == "from-a-file"


def test_unreadable_secret_file_names_the_variable_not_the_secret(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE points at"):
        env(SECRET_KEY_FILE=str(tmp_path / "missing")).secret("SECRET_KEY")


def test_time_zone():
    assert env(TZ="Europe/Lisbon").timezone("TZ", "UTC") == "Europe/Lisbon"
    with pytest.raises(ImproperlyConfigured, match="TZ must be an IANA time zone"):
        env(TZ="Lisbon/Europe").timezone("TZ", "UTC")


def test_url_scheme_is_checked_and_passwords_are_redacted():
    assert env(R="redis://h:6379/0").url("R", schemes=["redis"]) == "redis://h:6379/0"
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env(R="http://user:hunter2@h:6379/0").url("R", schemes=["redis", "rediss"])
    assert "R must be a URL starting with redis:// or rediss://" in str(excinfo.value)
    assert "hunter2" not in str(excinfo.value)


def test_postgres_url():
    config = parse_database_url("postgres://gen:p%40ss@db.local:5433/genesys?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("genesys", "gen", "p@ss")
    assert (config["HOST"], config["PORT"]) == ("db.local", "5433")
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_urls(tmp_path):
    relative = parse_database_url("sqlite:///var/x.sqlite3", base_dir=tmp_path)
    assert relative["NAME"] == str(tmp_path / "var" / "x.sqlite3")
    absolute = parse_database_url(f"sqlite:///{tmp_path}/y.sqlite3", base_dir=Path("/elsewhere"))
    assert absolute["NAME"] == str(tmp_path / "y.sqlite3")


def test_bad_database_urls_name_the_variable_and_hide_passwords():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must start with postgres:// or sqlite://"):
        parse_database_url("mysql://root@localhost/genesys")
    with pytest.raises(ImproperlyConfigured) as excinfo:
        parse_database_url("postgres://u:topsecret@localhost/")
    assert "must name a database" in str(excinfo.value) and "topsecret" not in str(excinfo.value)
    with pytest.raises(ImproperlyConfigured, match="invalid port"):
        parse_database_url("postgres://u@localhost:99999x/genesys")


def test_unset_database_url_is_sqlite_under_var(tmp_path):
    config = env().database("DATABASE_URL", base_dir=tmp_path)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "var" / "genesys.sqlite3")
