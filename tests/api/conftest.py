"""Helpers of the API tests: users in each role with a token, and the header that sends it."""

from __future__ import annotations

import pytest

from api.services.tokens import api_token_create


@pytest.fixture
def token_for(role_user):
    """``token_for("operator")``: a usable token of a fresh user in that role (see role_user)."""

    def make(role: str = "operator", **kwargs) -> str:
        _row, token = api_token_create(user=role_user(role), name=f"{role} script", **kwargs)
        return token

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
