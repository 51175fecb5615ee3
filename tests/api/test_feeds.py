"""GET /api/v1/feed-runs and /api/v1/feed-runs/{id}: counters and rejected rows."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.factories import FeedRunFactory, SupplierFeedFactory

pytestmark = pytest.mark.django_db

REJECTED = [{"line": n, "reason": "no price", "raw": {"sku": f"S{n}", "price": ""}} for n in range(2, 122)]


def test_feed_runs_filter_by_supplier_and_status_newest_first(client, token_for):
    headers = bearer(token_for("viewer"))
    feed = SupplierFeedFactory()
    mine = [FeedRunFactory(feed=feed, status="success", rows_read=10 * i) for i in range(3)]
    FeedRunFactory(feed=feed, status="failed")
    FeedRunFactory(status="success")  # another supplier
    body = client.get(
        "/api/v1/feed-runs", {"supplier": feed.supplier_id, "status": "success"}, headers=headers
    ).json()
    assert [r["id"] for r in body["results"]] == [r.pk for r in reversed(mine)]
    first = body["results"][0]
    assert first["supplier"]["id"] == feed.supplier_id and first["feed"]["name"] == feed.name
    assert first["counters"]["rows_read"] == 20
    assert "rejected_rows" not in first
    bad = client.get("/api/v1/feed-runs", {"status": "lost"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    assert client.get("/api/v1/feed-runs", {"supplier": "x"}, headers=headers).json()["field"] == "supplier"


def test_a_feed_run_shows_counters_warnings_timings_and_rejected_rows(client, token_for):
    run = FeedRunFactory(
        rows_read=200,
        rows_rejected=120,
        warnings=["3 duplicate SKUs"],
        timings={"download": 1.5},
        rejected_rows=REJECTED,
    )
    body = client.get(f"/api/v1/feed-runs/{run.pk}", headers=bearer(token_for("viewer"))).json()
    assert body["counters"]["rows_rejected"] == 120 and body["warnings"] == ["3 duplicate SKUs"]
    assert body["timings"] == {"download": 1.5}
    # As on the admin's run page: a viewer sees the first 50, who may download them sees all kept.
    assert body["rejected_rows_shown"] == 50 and body["rejected_rows_kept"] == 120
    assert body["rejected_rows"][0] == {"line": 2, "reason": "no price", "raw": {"sku": "S2", "price": ""}}
    full = client.get(f"/api/v1/feed-runs/{run.pk}", headers=bearer(token_for("operator"))).json()
    assert len(full["rejected_rows"]) == 120


def test_an_unknown_feed_run_is_404(client, token_for):
    response = client.get("/api/v1/feed-runs/987654", headers=bearer(token_for("viewer")))
    assert response.status_code == 404
