from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from tests.support.feed_server import feed_server  # noqa: F401 - a fixture for every test package


@pytest.fixture(autouse=True)
def redis_conn() -> Iterator[redis.Redis]:
    """The tests' own Redis database, empty at the start and the end of every test."""
    if settings.REDIS_URL.rstrip("/").endswith("/0"):
        raise RuntimeError("Refusing to flush Redis database 0 in tests; set TEST_REDIS_DB.")
    conn = redis.Redis.from_url(settings.REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="operator", password="operator-password-123", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    return client


@pytest.fixture
def role_user(django_user_model):
    """``role_user("operator")``: a staff user in that role's group (the groups come from the
    migration); ``"none"`` is staff without any permission, ``"superuser"`` a superuser."""

    def make(role: str):
        from django.contrib.auth.models import Group

        user = django_user_model.objects.create_user(
            username=f"{role}-user",
            password=f"{role}-password-123",
            is_staff=True,
            is_superuser=role == "superuser",
        )
        if role not in ("none", "superuser"):
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def role_client(client, role_user):
    """``role_client("viewer")``: the test client logged in as a user of that role."""

    def make(role: str):
        client.force_login(role_user(role))
        return client

    return make


@pytest.fixture
def feeds_root(settings, tmp_path):
    """An empty FEEDS_ROOT per test."""
    root = tmp_path / "feeds"
    root.mkdir()
    settings.FEEDS_ROOT = root
    return root


def pytest_collection_modifyitems(config, items):
    """``postgres_only`` tests need PostgreSQL's row locks and real concurrent writers."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)
