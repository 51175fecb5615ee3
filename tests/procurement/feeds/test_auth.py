"""Authentication: credentials come from environment variables at download time and never leak."""

import base64

import pytest

from tests.support.feed_server import FeedServer, Reply
from tests.support.feeds import csv_body, read_all, source_for

GOOD = csv_body("A1;5600000010075;Samsung;SM-1;Phone;10.50;3")
SECRET = "s3cr3t-Valu3/with+chars"


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("ACME_USER", "acme-user")
    monkeypatch.setenv("ACME_PASSWORD", SECRET)
    monkeypatch.setenv("ACME_TOKEN", SECRET)
    monkeypatch.setenv("ACME_KEY", SECRET)


AUTH_CASES = {
    "basic": (
        {"username_env": "ACME_USER", "password_env": "ACME_PASSWORD"},
        lambda r: (
            r.headers.get("authorization")
            == "Basic " + base64.b64encode(f"acme-user:{SECRET}".encode()).decode()
        ),
    ),
    "bearer": ({"token_env": "ACME_TOKEN"}, lambda r: r.headers.get("authorization") == f"Bearer {SECRET}"),
    "header": (
        {"header": "X-Api-Key", "value_env": "ACME_KEY"},
        lambda r: r.headers.get("x-api-key") == SECRET,
    ),
    "query": ({"param": "apikey", "value_env": "ACME_KEY"}, lambda r: r.query.get("apikey") == SECRET),
}


@pytest.mark.parametrize("auth_type", AUTH_CASES)
def test_each_auth_type_reaches_the_server_with_the_right_credential(feed_server, credentials, auth_type):
    settings, accepted = AUTH_CASES[auth_type]
    feed_server.route("/feed.csv", body=lambda r: Reply(body=GOOD) if accepted(r) else Reply(status=401))
    result = read_all(source_for(feed_server.url("/feed.csv"), auth_type=auth_type, auth_settings=settings))
    assert result.error is None, result.error
    assert result.skus == ["A1"]


@pytest.mark.parametrize("auth_type", AUTH_CASES)
def test_a_refused_credential_never_appears_in_the_error(feed_server, credentials, auth_type):
    settings, _accepted = AUTH_CASES[auth_type]
    # A careless server that echoes what it got, and says where to go next.
    feed_server.route(
        "/feed.csv",
        body=lambda r: Reply(
            status=401, body=f"bad key {r.target} {r.headers}", headers={"X-Echo": r.target}
        ),
    )
    result = read_all(source_for(feed_server.url("/feed.csv"), auth_type=auth_type, auth_settings=settings))
    message = str(result.error)
    assert message.startswith(
        f"HTTP 401 Unauthorized from {feed_server.url('/feed.csv')}: the server refused"
    )
    assert SECRET not in message
    assert SECRET not in result.stats.error
    assert "s3cr3t" not in message


@pytest.mark.parametrize("auth_type", AUTH_CASES)
def test_a_missing_variable_is_named_and_nothing_is_requested(feed_server, monkeypatch, auth_type):
    settings, _accepted = AUTH_CASES[auth_type]
    for name in ("ACME_USER", "ACME_PASSWORD", "ACME_TOKEN", "ACME_KEY"):
        monkeypatch.delenv(name, raising=False)
    feed_server.route("/feed.csv", body=GOOD)
    result = read_all(source_for(feed_server.url("/feed.csv"), auth_type=auth_type, auth_settings=settings))
    key, variable = next((k, v) for k, v in settings.items() if k.endswith("_env"))
    assert str(result.error) == (
        f"The environment variable {variable} (auth_settings.{key}) is not set; set it where the workers run."
    )
    assert result.error.phase == "download"
    assert feed_server.requests == []


def test_a_query_key_is_masked_in_errors_about_the_url(feed_server, credentials):
    feed_server.route("/feed.csv", status=500)
    result = read_all(
        source_for(
            feed_server.url("/feed.csv?lang=pt"),
            auth_type="query",
            auth_settings={"param": "apikey", "value_env": "ACME_KEY"},
            format_options={"retries": 0},
        )
    )
    assert feed_server.requests[0].query == {"lang": "pt", "apikey": SECRET}
    assert str(result.error) == (
        f"HTTP 500 Internal Server Error from {feed_server.url('/feed.csv?lang=pt')} "
        "(gave up after 1 attempts)."
    )


def test_keys_written_into_the_url_itself_are_masked_too(feed_server):
    feed_server.route("/feed.csv", status=404)
    result = read_all(source_for(feed_server.url("/feed.csv?token=abc123&page=1")))
    assert str(result.error).startswith(
        f"HTTP 404 Not Found from {feed_server.url('/feed.csv?token=***&page=1')}"
    )
    assert "abc123" not in str(result.error)


def carries_secret(request):
    return SECRET in str(request.headers) or SECRET in request.query.values()


def test_credentials_are_not_sent_to_another_host_on_redirect(credentials):
    elsewhere = FeedServer()
    try:
        elsewhere.route("/feed.csv", body=GOOD)
        origin = FeedServer()
        try:
            origin.route("/feed.csv", redirect_to=elsewhere.url("/feed.csv"))
            for auth_type in ("bearer", "header", "query"):
                settings, _accepted = AUTH_CASES[auth_type]
                result = read_all(
                    source_for(origin.url("/feed.csv"), auth_type=auth_type, auth_settings=settings)
                )
                assert result.skus == ["A1"]
            assert all(carries_secret(r) for r in origin.requests)
            received = elsewhere.requests
            assert len(received) == 3
            assert not any(carries_secret(r) for r in received)
        finally:
            origin.close()
    finally:
        elsewhere.close()


def test_credentials_follow_a_redirect_on_the_same_host(feed_server, credentials):
    feed_server.route("/old.csv", redirect_to="/feed.csv")
    feed_server.route(
        "/feed.csv",
        body=lambda r: (
            Reply(body=GOOD) if r.headers.get("authorization") == f"Bearer {SECRET}" else Reply(status=401)
        ),
    )
    result = read_all(
        source_for(feed_server.url("/old.csv"), auth_type="bearer", auth_settings={"token_env": "ACME_TOKEN"})
    )
    assert result.skus == ["A1"]
