"""/healthz: open to monitors, 200 only when every part of the system is alive."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq.cron import CronScheduler
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from genesys.jobs.scheduler import periodic_tick
from tests.factories import CatalogUpdateStreamFactory, DirtyProductFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything_alive(settings):
    """A registered worker, RQ's scheduler holding its locks, a beating cron process, a recent tick."""
    connection = django_rq.get_connection("default")
    worker = SimpleWorker([django_rq.get_queue(q) for q in settings.GENESYS_QUEUES], connection=connection,
                          serializer=JSONSerializer)  # fmt: skip
    worker.register_birth()
    scheduler = RQScheduler(settings.GENESYS_QUEUES, connection=connection)
    scheduler.acquire_locks()
    cron = CronScheduler(connection=connection)
    cron.register_birth()
    cron.heartbeat()
    periodic_tick()
    yield
    scheduler.release_locks()
    cron.register_death()
    worker.register_death()


def test_healthy_when_everything_answers(client, everything_alive):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["healthy"] is True
    assert set(body["checks"]) == {"database", "redis", "workers", "scheduler", "cron", "stream", "recompute"}
    assert body["checks"]["workers"]["alive"] == 1
    assert body["checks"]["stream"]["oldest_pending_age_s"] == 0


def test_unhealthy_without_workers_scheduler_or_cron(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"]
    assert not checks["workers"]["ok"] and not checks["scheduler"]["ok"] and not checks["cron"]["ok"]


def test_a_dead_redis_is_unhealthy(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    redis_check = response.json()["checks"]["redis"]
    assert redis_check["ok"] is False and "ConnectionError" in redis_check["error"]


def test_an_old_unsent_shop_update_is_unhealthy(client, everything_alive, settings):
    settings.HEALTH_STREAM_MAX_AGE_SECONDS = 600
    CatalogUpdateStreamFactory(
        product=ProductFactory(id_ecommerce=5), created_at=timezone.now() - timedelta(hours=2)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["stream"]["oldest_pending_age_s"] > 7000


def test_products_left_waiting_for_the_catalog_step_are_unhealthy(client, everything_alive, settings):
    settings.HEALTH_RECOMPUTE_MAX_AGE_SECONDS = 600
    DirtyProductFactory(marked_at=timezone.now() - timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    check = response.json()["checks"]["recompute"]
    assert check["ok"] is False and check["dirty_products"] == 1 and check["oldest_dirty_age_s"] > 3500


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
