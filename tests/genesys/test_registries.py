"""genesys names no app: each app fills the job framework's registries at start-up."""

import pytest

from genesys import demo, health
from genesys.jobs import maintenance


def test_the_maintenance_steps_come_from_the_apps_in_install_order():
    steps = maintenance.maintenance_steps()
    assert list(steps) == ["stream_rows_deleted", "feed_runs_deleted"]
    assert steps["stream_rows_deleted"].__module__ == "catalog.services.update_stream"
    assert steps["feed_runs_deleted"].__module__ == "procurement.services.runs"


def test_the_health_checks_of_the_apps_follow_the_systems_own():
    assert list(health.CHECKS) == ["database", "redis", "workers", "scheduler", "cron", "stream", "recompute"]
    assert health.CHECKS["stream"].__module__ == "catalog.health"
    assert health.CHECKS["recompute"].__module__ == "catalog.health"


def test_the_demo_is_loaded_by_procurement_then_the_shop():
    steps = demo.demo_steps()
    assert list(steps) == ["suppliers", "shop_categories"]
    assert [step.__module__ for step in steps.values()] == ["procurement.demo", "prestashop.demo"]


@pytest.mark.django_db
def test_the_maintenance_job_runs_every_registered_step_and_prunes_its_ledger_last(monkeypatch):
    calls = []
    for name in ("a_deleted", "b_deleted"):
        monkeypatch.setitem(maintenance._STEPS, name, lambda *, before, name=name: calls.append(name) or 7)
    monkeypatch.setattr(maintenance, "job_runs_prune", lambda *, before, **_: calls.append("job_runs") or 0)

    class Ctx:
        def progress(self, message):
            pass

    summary = maintenance.maintenance(Ctx())
    assert calls[-3:] == ["a_deleted", "b_deleted", "job_runs"]
    assert summary["a_deleted"] == 7 and summary["b_deleted"] == 7 and summary["job_runs_deleted"] == 0


def test_a_registered_health_check_that_raises_is_reported_failed(client, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(health.CHECKS, "probe", broken)
    body = client.get("/healthz").json()
    assert body["checks"]["probe"]["ok"] is False
    assert "RuntimeError: boom" in body["checks"]["probe"]["error"]


def test_a_demo_step_failure_stops_the_load_with_its_lines(monkeypatch):
    def failing(*, feeds_root, feed_server_url, reset):
        raise demo.DemoLoadError(["first problem", "how to fix it"])

    monkeypatch.setattr(demo, "_STEPS", {"probe": failing})
    with pytest.raises(demo.DemoLoadError) as caught:
        demo.demo_load(feeds_root=None, feed_server_url="")
    assert caught.value.errors == ["first problem", "how to fix it"]
