"""The API over a real socket: ``requests`` against pytest-django's live server, with tokens,
for every endpoint and its refusals."""

from __future__ import annotations

import pytest
import requests

from api.services.tokens import api_token_create
from genesys.jobs.ledger import kill_switch_set, kind_config_get
from tests.factories import FeedRunFactory, JobRunFactory, ProductActiveOfferFactory
from tests.support.jobs import TEST_KIND, test_kind_register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def roles():
    """The role groups: a transactional test starts from an empty database (no migration data)."""
    from genesys.roles import roles_sync

    roles_sync()


@pytest.fixture
def http(live_server, role_user):
    test_kind_register()
    kind_config_get(kind=TEST_KIND)
    session = requests.Session()
    _row, token = api_token_create(user=role_user("operator"), name="live")
    session.headers["Authorization"] = f"Bearer {token}"
    base = f"{live_server.url}/api/v1"

    class Http:
        def __getattr__(self, method):
            return lambda path, **kw: getattr(session, method)(f"{base}{path}", timeout=10, **kw)

    return Http()


def test_jobs_end_to_end_over_http(http):
    created = http.post("/jobs", json={"kind": TEST_KIND, "params": {"n": 1}, "priority": "urgent"})
    assert created.status_code == 201 and created.headers["Content-Type"] == "application/json"
    run_id = created.json()["id"]
    assert http.post("/jobs", json={"kind": TEST_KIND, "params": {"n": 1}}).status_code == 409
    bad = http.post("/jobs", json={"kind": "nope"})
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    bulk = http.post(
        "/jobs/bulk", json={"items": [{"kind": TEST_KIND, "params": {"n": 2}}, {"kind": "nope"}]}
    )
    assert [r["status"] for r in bulk.json()["results"]] == ["created", "rejected"]
    assert http.post("/jobs/bulk", json={"items": []}).status_code == 400
    detail = http.get(f"/jobs/{run_id}").json()
    assert detail["priority"] == "urgent" and detail["status"] == "queued" and "progress" in detail
    assert http.get(f"/jobs/{run_id}/log", params={"after": 0}).json()["run_id"] == run_id
    assert http.get("/jobs/999999").status_code == 404
    listed = http.get("/jobs", params={"kind": TEST_KIND, "status": "queued"}).json()["results"]
    assert {r["id"] for r in listed} >= {run_id}
    assert http.get("/jobs", params={"status": "nope"}).status_code == 400
    assert http.delete(f"/jobs/{run_id}").json()["status"] == "cancelled"
    assert http.post(f"/jobs/{run_id}/cancel").status_code == 409
    kill_switch_set(enabled=False, by="test")
    assert http.post("/jobs", json={"kind": TEST_KIND, "params": {"n": 3}}).json()["code"] == "kill_switch"
    assert http.get("/queues").json()["kill_switch"] is True


def test_reads_over_http(http):
    offer = ProductActiveOfferFactory()
    run = FeedRunFactory(rejected_rows=[{"line": 2, "reason": "no price", "raw": {}}])
    product = http.get(f"/products/{offer.product.gtin}").json()
    assert (
        product["id"] == offer.product.pk
        and product["active_offer"]["supplier_item_id"] == offer.supplier_item_id
    )
    assert http.get("/products/0").status_code == 404
    assert (
        http.get("/feed-runs", params={"supplier": run.feed.supplier_id}).json()["results"][0]["id"] == run.pk
    )
    assert http.get(f"/feed-runs/{run.pk}").json()["rejected_rows"][0]["line"] == 2
    assert http.get("/feed-runs/99999").status_code == 404


def test_authentication_over_http(live_server, role_user):
    url = f"{live_server.url}/api/v1/queues"
    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert requests.get(url, headers={"Authorization": "Bearer gsy_x"}, timeout=10).status_code == 401
    _row, none = api_token_create(user=role_user("none"), name="no powers")
    assert requests.get(url, headers={"Authorization": f"Bearer {none}"}, timeout=10).status_code == 403
    job = JobRunFactory()
    _row, viewer = api_token_create(user=role_user("viewer"), name="reader")
    cancel = requests.delete(
        f"{live_server.url}/api/v1/jobs/{job.pk}", headers={"Authorization": f"Bearer {viewer}"}, timeout=10
    )
    assert cancel.status_code == 403
