"""Start-up behaviour of the real settings module, in a fresh interpreter each time."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "production-secret-that-is-long-and-random-enough-0123456789",
    "ALLOWED_HOSTS": "genesys.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Only what a bare machine has: the test settings put their own values in os.environ.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    clean.update(env, DJANGO_SETTINGS_MODULE="genesys.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "perhaps", "DEBUG must be a boolean"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL must start with postgres:// or sqlite://"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL starting with"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE must be an IANA time zone"),
        ("PRESTASHOP_BACKEND", "soap", "PRESTASHOP_BACKEND must be one of webservice, r_genesys"),
        ("PRESTASHOP_URL", "shop.example.com", "PRESTASHOP_URL must be a URL starting with"),
        ("ALLOWED_HOSTS", "a,,b", "ALLOWED_HOSTS must be a comma-separated list"),
        ("EOL_DAYS", "soon", "EOL_DAYS must be an integer"),
        ("ALLOWED_HOSTS", "*", "'*' (any host) is refused"),
        ("ALLOWED_HOSTS", "genesys.example.com,*", "'*' (any host) is refused"),
        ("OUTBOUND_ALLOW_HOSTS", "feeds.example.com,not a host", "OUTBOUND_ALLOW_HOSTS: 'not a host'"),
        ("SESSION_COOKIE_AGE", "forever", "SESSION_COOKIE_AGE must be an integer"),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT must be"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    result = manage("check", **{**PRODUCTION, variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_secret_key_is_required_without_debug():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_weak_secret_key_is_refused_without_debug():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_allowed_hosts_are_required_without_debug():
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = manage("check", **env)
    assert "ALLOWED_HOSTS is required when DEBUG is off" in result.stderr


def test_any_host_is_still_fine_while_debugging():
    result = manage("check", DEBUG="1", ALLOWED_HOSTS="*")
    assert result.returncode == 0, result.stderr


def test_development_needs_no_configuration():
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout


def test_session_expiry_comes_from_the_environment():
    result = manage("diffsettings", DEBUG="1", SESSION_COOKIE_AGE="3600", SESSION_EXPIRE_AT_BROWSER_CLOSE="1")
    assert result.returncode == 0, result.stderr
    assert "SESSION_COOKIE_AGE = 3600" in result.stdout
    assert "SESSION_EXPIRE_AT_BROWSER_CLOSE = True" in result.stdout
