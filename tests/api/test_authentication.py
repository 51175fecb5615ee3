"""Who may call the API: a token or a staff session, staff only, each endpoint behind its model
permission. Anonymous: 401 with WWW-Authenticate; non-staff or without the permission: 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from api.models import ApiToken
from api.services.tokens import api_token_create, api_tokens_revoke
from tests.api.conftest import bearer
from tests.factories import FeedRunFactory, JobRunFactory, ProductFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

READ_JOBS = "genesys.view_jobrun"
RUN_JOBS = "genesys.run_jobs"
CANCEL_JOBS = "genesys.cancel_jobs"

# (method, path with {job}/{product}/{feed_run} placeholders, the permission it needs)
ENDPOINTS = [
    ("get", "/api/v1/jobs", READ_JOBS),
    ("post", "/api/v1/jobs", RUN_JOBS),
    ("post", "/api/v1/jobs/bulk", RUN_JOBS),
    ("get", "/api/v1/jobs/{job}", READ_JOBS),
    ("delete", "/api/v1/jobs/{job}", CANCEL_JOBS),
    ("post", "/api/v1/jobs/{job}/cancel", CANCEL_JOBS),
    ("get", "/api/v1/jobs/{job}/log", READ_JOBS),
    ("get", "/api/v1/queues", "genesys.view_queues"),
    ("post", "/api/v1/sync/quick", RUN_JOBS),
    ("get", "/api/v1/products/{product}", "catalog.view_product"),
    ("get", "/api/v1/feed-runs", "procurement.view_feedrun"),
    ("get", "/api/v1/feed-runs/{feed_run}", "procurement.view_feedrun"),
]
ROLES = ["none", "viewer", "operator", "integrator", "admin", "superuser"]


@pytest.fixture
def ids():
    return {"job": JobRunFactory().pk, "product": ProductFactory().pk, "feed_run": FeedRunFactory().pk}


def _call(client: Client, method: str, path: str, ids: dict, **headers):
    url = path.format(**ids)
    if method == "post":
        return client.post(url, {}, content_type="application/json", headers=headers)
    return getattr(client, method)(url, headers=headers)


def test_every_api_view_is_in_the_table_above():
    """A new endpoint fails here until it is given its permission (and its tests)."""
    resolver = get_resolver()
    api = next(p for p in resolver.url_patterns if isinstance(p, URLResolver) and str(p.pattern) == "api/")
    v1 = next(p for p in api.url_patterns if isinstance(p, URLResolver) and str(p.pattern) == "v1/")
    routes = {f"/api/v1/{p.pattern}" for p in v1.url_patterns if isinstance(p, URLPattern)}
    tabled = {
        path.replace("{job}", "<int:run_id>").replace("{feed_run}", "<int:run_id>")
        for _m, path, _p in ENDPOINTS
    }
    tabled = {p.replace("{product}", "<str:reference>") for p in tabled}
    assert routes == tabled


@pytest.mark.parametrize(("method", "path", "_perm"), ENDPOINTS)
def test_anonymous_callers_get_401_and_are_told_to_bring_a_token(client, ids, method, path, _perm):
    response = _call(client, method, path, ids)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path", "_perm"), ENDPOINTS)
def test_a_user_who_is_not_staff_gets_403_even_with_a_valid_token(
    client, ids, django_user_model, method, path, _perm
):
    user = django_user_model.objects.create_user(username="customer", is_superuser=True, is_staff=False)
    _row, token = api_token_create(user=user, name="x")
    response = _call(client, method, path, ids, **bearer(token))
    assert response.status_code == 403
    assert response.json()["detail"] == "The API is for staff users only."


def test_each_role_reaches_exactly_the_endpoints_its_permissions_allow(role_user, ids):
    problems = []
    for role in ROLES:
        user = role_user(role)
        _row, token = api_token_create(user=user, name=role)
        for method, path, permission in ENDPOINTS:
            status = _call(Client(), method, path, ids, **bearer(token)).status_code
            allowed = user.has_perm(permission)
            if allowed == (status == 403) or status == 401:
                problems.append(f"{role:>10} {method.upper()} {path}: {status} (has {permission}: {allowed})")
    assert not problems, "\n".join(problems)


def test_a_staff_user_without_the_permission_is_told_which_one(client, role_user, ids):
    _row, token = api_token_create(user=role_user("viewer"), name="read only")
    response = client.post(
        "/api/v1/jobs", {"kind": "maintenance"}, content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 403
    assert RUN_JOBS in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer gsy_nothere1_" + "x" * 43, "Token not-a-token", "Bearer ünïcode"],
)
def test_a_bad_token_is_401_not_anonymous(client, header):
    response = client.get("/api/v1/queues", headers={"Authorization": header})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_token_and_bearer_keywords_both_work(client, role_user):
    _row, token = api_token_create(user=role_user("viewer"), name="x")
    assert client.get("/api/v1/queues", headers={"Authorization": f"Token {token}"}).status_code == 200
    assert client.get("/api/v1/queues", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_revoked_and_expired_tokens_are_refused_and_last_use_is_recorded(client, role_user):
    user = role_user("viewer")
    row, token = api_token_create(user=user, name="x")
    assert client.get("/api/v1/queues", headers=bearer(token)).status_code == 200
    assert ApiToken.objects.get(pk=row.pk).last_used_at is not None
    api_tokens_revoke(token_ids=[row.pk], by="admin")
    response = client.get("/api/v1/queues", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid, expired or revoked API token."
    expired_row, expired = api_token_create(
        user=user, name="y", expires_at=timezone.now() + timedelta(seconds=5)
    )
    ApiToken.objects.filter(pk=expired_row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/queues", headers=bearer(expired)).status_code == 401


def test_a_token_of_a_user_who_lost_staff_status_is_refused(client):
    user = StaffUserFactory()
    user.user_permissions.add(*_permissions("genesys.view_queues"))
    _row, token = api_token_create(user=user, name="x")
    assert client.get("/api/v1/queues", headers=bearer(token)).status_code == 200
    user.is_staff = False
    user.save()
    assert client.get("/api/v1/queues", headers=bearer(token)).status_code == 403


def test_a_staff_session_works_and_its_writes_need_the_csrf_token(role_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("operator"))
    assert client.get("/api/v1/queues").status_code == 200
    refused = client.post("/api/v1/jobs", {"kind": "maintenance"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/admin/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/jobs",
        {"kind": "maintenance"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code in (201, 409), accepted.content


def test_a_session_not_verified_with_the_users_two_factor_device_counts_as_anonymous(role_user):
    user = role_user("operator")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    client.force_login(user)  # password only: the admin would ask for the code
    assert client.get("/api/v1/queues").status_code == 401


def test_schema_and_docs_are_for_staff(client, role_user):
    assert client.get("/api/schema/").status_code == 401
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and "/admin/login/" in docs["Location"]
    client.force_login(role_user("viewer"))
    schema = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html and "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html
    assert client.get("/api/redoc/").status_code == 200


def _permissions(*keys: str):
    from django.contrib.auth.models import Permission

    return [
        Permission.objects.get(content_type__app_label=key.split(".")[0], codename=key.split(".")[1])
        for key in keys
    ]
