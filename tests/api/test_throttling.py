"""Per-token throttles on the Redis cache: requests per minute, and jobs per minute where a bulk
request counts each of its items."""

from __future__ import annotations

import pytest

from api.services.tokens import api_token_create
from genesys.jobs.ledger import kind_config_get
from tests.api.conftest import bearer
from tests.support.jobs import TEST_KIND, test_kind_register

pytestmark = pytest.mark.django_db


def test_a_token_past_its_requests_per_minute_gets_429_and_another_token_does_not(
    client, settings, role_user
):
    settings.API_REQUESTS_PER_MINUTE = 3
    user = role_user("viewer")
    _row, token = api_token_create(user=user, name="busy")
    _row, other = api_token_create(user=user, name="quiet")
    assert [client.get("/api/v1/queues", headers=bearer(token)).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/v1/queues", headers=bearer(token))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "throttled"
    assert client.get("/api/v1/queues", headers=bearer(other)).status_code == 200


def test_bulk_items_count_against_the_jobs_per_minute(client, settings, token_for):
    test_kind_register()
    kind_config_get(kind=TEST_KIND)
    settings.API_JOBS_PER_MINUTE = 5
    headers = bearer(token_for("operator"))

    def bulk(*ns):
        items = [{"kind": TEST_KIND, "params": {"n": n}} for n in ns]
        return client.post(
            "/api/v1/jobs/bulk", {"items": items}, content_type="application/json", headers=headers
        )

    assert bulk(1, 2, 3, 4).status_code == 200
    assert bulk(5, 6).status_code == 429  # 4 + 2 > 5
    one = client.post(
        "/api/v1/jobs",
        {"kind": TEST_KIND, "params": {"n": 5}},
        content_type="application/json",
        headers=headers,
    )
    assert one.status_code == 201  # 4 + 1 = 5
    again = client.post(
        "/api/v1/jobs",
        {"kind": TEST_KIND, "params": {"n": 6}},
        content_type="application/json",
        headers=headers,
    )
    assert again.status_code == 429
    assert client.get("/api/v1/jobs", headers=headers).status_code == 200  # reading is not asking for jobs


def test_the_counts_live_in_redis_shared_by_every_web_process(client, settings, redis_conn, token_for):
    settings.API_REQUESTS_PER_MINUTE = 100
    client.get("/api/v1/queues", headers=bearer(token_for("viewer")))
    assert any(b"api:throttle:api_requests:token" in key for key in redis_conn.keys("*"))
