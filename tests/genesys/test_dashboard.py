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
