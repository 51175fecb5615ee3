"""manage.py api_token create / revoke / list."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiToken
from api.selectors import api_token_authenticate

pytestmark = pytest.mark.django_db


def test_create_prints_the_token_once_and_it_works(role_user):
    user = role_user("operator")
    out, err = StringIO(), StringIO()
    call_command(
        "api_token",
        "create",
        user.username,
        "--name",
        "deploy",
        "--expires-days",
        "30",
        stdout=out,
        stderr=err,
    )
    token = out.getvalue().strip()
    row = api_token_authenticate(raw=token)
    assert row is not None and row.name == "deploy" and row.user == user and row.expires_at is not None
    assert token not in err.getvalue() and row.public_id in err.getvalue()


def test_create_refuses_unknown_and_non_staff_users_and_bad_days(django_user_model, role_user):
    django_user_model.objects.create_user(username="customer")
    with pytest.raises(CommandError, match="No user"):
        call_command("api_token", "create", "nobody")
    with pytest.raises(CommandError, match="not an active staff user"):
        call_command("api_token", "create", "customer")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("api_token", "create", role_user("viewer").username, "--expires-days", "0")
    assert not ApiToken.objects.exists()


def test_revoke_by_id_or_whole_token_and_list_without_secrets(role_user):
    user = role_user("viewer")
    out = StringIO()
    call_command("api_token", "create", user.username, stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    row = ApiToken.objects.get()
    listing = StringIO()
    call_command("api_token", "list", stdout=listing)
    assert row.public_id in listing.getvalue() and token not in listing.getvalue()
    done = StringIO()
    call_command("api_token", "revoke", token, stdout=done)
    assert "revoked" in done.getvalue() and api_token_authenticate(raw=token) is None
    again = StringIO()
    call_command("api_token", "revoke", row.public_id, stdout=again)
    assert "already revoked" in again.getvalue()
    with pytest.raises(CommandError, match="No token"):
        call_command("api_token", "revoke", "zzzzzzzz")
