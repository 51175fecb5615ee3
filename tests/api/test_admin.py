"""API tokens in the admin: created with the token shown once on the next page, revoked by an
action; the token itself is never stored, put in a message or shown again."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from api.models import ApiToken
from api.tokens import token_digest

pytestmark = pytest.mark.django_db


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(role_client, role_user):
    client = role_client("admin")
    owner = role_user("operator")
    response = client.post(
        "/admin/api/apitoken/add/", {"user": owner.pk, "name": "ERP", "expires_at_0": "", "expires_at_1": ""}
    )
    assert response.status_code == 200, response.content
    token = response.context["token"]
    assert token.startswith("gsy_") and token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    row = ApiToken.objects.get()
    assert (row.user, row.name, row.secret_hash, row.created_by) == (
        owner,
        "ERP",
        token_digest(token),
        "admin-user",
    )
    assert not any(token in str(m) for m in get_messages(response.wsgi_request))
    page = client.get(f"/admin/api/apitoken/{row.pk}/change/").content.decode()
    assert token not in page and f"gsy_{row.public_id}_" in page
    assert client.get("/admin/api/apitoken/").status_code == 200


def test_only_active_staff_users_get_tokens(role_client, django_user_model):
    customer = django_user_model.objects.create_user(username="customer", is_staff=False)
    response = role_client("admin").post("/admin/api/apitoken/add/", {"user": customer.pk, "name": "x"})
    assert response.status_code == 200 and not ApiToken.objects.exists()
    assert "Only active staff users may use the API." in response.content.decode()


def test_the_revoke_action_revokes_for_good(role_client, role_user):
    from api.services.tokens import api_token_create

    row, _token = api_token_create(user=role_user("viewer"), name="old script")
    response = role_client("admin").post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}, follow=True
    )
    assert "1 token revoked." in response.content.decode()
    row.refresh_from_db()
    assert row.state() == "revoked" and row.revoked_by == "admin-user"
