"""API tokens: their format (pure), and creating, finding, revoking and touching them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import ApiToken
from api.selectors import api_token_authenticate
from api.services.tokens import api_token_create, api_token_expiry, api_token_touch, api_tokens_revoke
from api.tokens import token_digest, token_generate, token_matches, token_parse
from tests.factories import StaffUserFactory

# --- the format, without a database ------------------------------------------------------------


def test_a_token_carries_its_public_id_and_256_random_bits():
    token, parts = token_generate()
    prefix, public_id, secret = token.split("_", 2)
    assert prefix == "gsy" and public_id == parts.public_id and len(public_id) == 8
    assert len(secret) >= 43  # 32 bytes, URL-safe base64
    assert parts.digest == token_digest(token) and len(parts.digest) == 64


def test_two_tokens_never_repeat():
    assert len({token_generate()[0] for _ in range(200)}) == 200


def test_parse_gives_the_id_and_digest_of_one_of_our_tokens():
    token, parts = token_generate()
    assert token_parse(token) == parts
    assert token_matches(parts=token_parse(token), stored_digest=parts.digest)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "gsy",
        "gsy_abc",
        "xyz_abcdefgh_" + "s" * 43,
        "gsy_ABCDEFGH_" + "s" * 43,
        "gsy_abcdefgh_short",
        "gsy_abcdéfgh_" + "s" * 43,
    ],
)
def test_parse_refuses_what_is_not_a_token(raw):
    assert token_parse(raw) is None


def test_a_changed_secret_does_not_match():
    token, parts = token_generate()
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not token_matches(parts=token_parse(forged), stored_digest=parts.digest)


# --- rows --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_a_hash_is_stored_and_the_token_finds_its_row():
    user = StaffUserFactory()
    row, token = api_token_create(user=user, name=" ERP export ", by="admin")
    stored = ApiToken.objects.get(pk=row.pk)
    assert token not in {stored.secret_hash, stored.public_id, stored.name}
    assert stored.secret_hash == token_digest(token) and stored.name == "ERP export"
    assert stored.created_by == "admin"
    assert api_token_authenticate(raw=token) == row


@pytest.mark.django_db
def test_revoked_expired_wrong_or_inactive_tokens_find_nothing():
    user = StaffUserFactory()
    revoked_row, revoked = api_token_create(user=user, name="a")
    assert api_tokens_revoke(token_ids=[revoked_row.pk], by="admin") == 1
    assert api_tokens_revoke(token_ids=[revoked_row.pk], by="admin") == 0  # once
    _row, expired = api_token_create(user=user, name="b", expires_at=timezone.now() - timedelta(seconds=1))
    _row, good = api_token_create(user=user, name="c")
    assert api_token_authenticate(raw=revoked) is None
    assert api_token_authenticate(raw=expired) is None
    assert api_token_authenticate(raw=good[:-2] + "xx") is None
    assert api_token_authenticate(raw="gsy_zzzzzzzz_" + "a" * 43) is None
    assert api_token_authenticate(raw=good) is not None
    user.is_active = False
    user.save()
    assert api_token_authenticate(raw=good) is None
    assert ApiToken.objects.get(pk=revoked_row.pk).state() == "revoked"


@pytest.mark.django_db
def test_last_used_is_written_at_most_once_a_minute(settings, django_assert_num_queries):
    settings.API_TOKEN_TOUCH_SECONDS = 60
    row, _token = api_token_create(user=StaffUserFactory(), name="poller")
    now = timezone.now()
    assert api_token_touch(token=row, now=now)
    with django_assert_num_queries(0):
        assert not api_token_touch(token=row, now=now + timedelta(seconds=59))
    assert api_token_touch(token=row, now=now + timedelta(seconds=61))
    assert ApiToken.objects.get(pk=row.pk).last_used_at == now + timedelta(seconds=61)


def test_expiry_is_days_from_now_or_never():
    now = timezone.now()
    assert api_token_expiry(days=None) is None
    assert api_token_expiry(days=30, now=now) == now + timedelta(days=30)
    with pytest.raises(ValueError):
        api_token_expiry(days=0)
