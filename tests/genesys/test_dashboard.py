import base64

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from werkzeug.test import Client

from genesys.dashboard import create_app

CREDENTIALS = {"RQ_DASHBOARD_USERNAME": "ops", "RQ_DASHBOARD_PASSWORD": "correct-horse-battery"}


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def dashboard():
    return Client(create_app({**CREDENTIALS, "REDIS_URL": settings.REDIS_URL}))


def test_anonymous_visitors_get_401_everywhere(dashboard):
    for path in ["/", "/0/data/queues.json", "/static/css/main.css", "/0/view/workers"]:
        response = dashboard.get(path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_wrong_password_is_refused(dashboard):
    assert dashboard.get("/", headers=basic("ops", "wrong")).status_code == 401
    assert dashboard.get("/", headers={"Authorization": "Basic !!notbase64"}).status_code == 401


def test_operators_with_credentials_see_the_queues(dashboard):
    auth = basic("ops", "correct-horse-battery")
    assert dashboard.get("/", headers=auth).status_code == 200
    response = dashboard.get("/0/data/queues.json", headers=auth)
    assert response.status_code == 200
    assert "queues" in response.json


def test_the_dashboard_refuses_to_start_without_credentials():
    with pytest.raises(ImproperlyConfigured, match="RQ_DASHBOARD_USERNAME is required"):
        create_app({"REDIS_URL": settings.REDIS_URL})
    with pytest.raises(SystemExit, match="at least 12"):
        create_app({"RQ_DASHBOARD_USERNAME": "ops", "RQ_DASHBOARD_PASSWORD": "short"})


def _queue_with_jobs(count: int = 2):
    import redis as redis_lib
    from rq import Queue
    from rq.serializers import JSONSerializer

    queue = Queue(
        "ingest", connection=redis_lib.Redis.from_url(settings.REDIS_URL), serializer=JSONSerializer
    )
    for _ in range(count):
        queue.enqueue("genesys.jobs.runner.job_execute", 1)
    return queue


def test_a_cross_site_post_with_a_foreign_origin_is_refused_and_changes_nothing(dashboard):
    queue = _queue_with_jobs()
    auth = basic("ops", "correct-horse-battery")
    response = dashboard.post(
        "/queue/ingest/queued/empty",
        headers={**auth, "Origin": "https://evil.example", "Content-Type": "text/plain"},
        data="x=1",
    )
    assert response.status_code == 403
    assert b"Cross-site" in response.data
    assert queue.count == 2


def test_a_post_without_origin_or_referer_is_refused(dashboard):
    queue = _queue_with_jobs()
    response = dashboard.post("/queue/ingest/queued/empty", headers=basic("ops", "correct-horse-battery"))
    assert response.status_code == 403
    assert queue.count == 2


def test_a_foreign_referer_is_refused_when_there_is_no_origin(dashboard):
    queue = _queue_with_jobs()
    response = dashboard.post(
        "/queue/ingest/queued/empty",
        headers={**basic("ops", "correct-horse-battery"), "Referer": "http://evil.example/page"},
    )
    assert response.status_code == 403
    assert queue.count == 2


def test_a_same_origin_post_works(dashboard):
    queue = _queue_with_jobs()
    response = dashboard.post(
        "/queue/ingest/queued/empty",
        headers={**basic("ops", "correct-horse-battery"), "Origin": "http://localhost"},
    )
    assert response.status_code == 200
    assert response.json["status"] == "OK"
    assert queue.count == 0


def test_a_same_origin_referer_is_enough_when_the_browser_sends_no_origin(dashboard):
    queue = _queue_with_jobs()
    response = dashboard.post(
        "/queue/ingest/queued/empty",
        headers={**basic("ops", "correct-horse-battery"), "Referer": "http://localhost/0/view/jobs"},
    )
    assert response.status_code == 200
    assert queue.count == 0


def test_a_trusted_proxy_origin_is_accepted():
    app = Client(
        create_app(
            {
                **CREDENTIALS,
                "REDIS_URL": settings.REDIS_URL,
                "RQ_DASHBOARD_TRUSTED_ORIGINS": "https://rq.shop.example",
            }
        )
    )
    queue = _queue_with_jobs()
    response = app.post(
        "/queue/ingest/queued/empty",
        headers={**basic("ops", "correct-horse-battery"), "Origin": "https://rq.shop.example"},
    )
    assert response.status_code == 200
    assert queue.count == 0


def test_requeue_all_by_get_is_refused(dashboard):
    response = dashboard.get("/requeue/ingest", headers=basic("ops", "correct-horse-battery"))
    assert response.status_code == 405
