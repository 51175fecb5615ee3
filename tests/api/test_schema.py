"""schemathesis against the generated OpenAPI schema: every operation with a bounded number of
generated requests (fixed seed), as an operator with a token; no answer is a 5xx, and every
answer has a documented status, content type, headers and body."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.services.tokens import api_token_create
from tests.factories import FeedRunFactory, JobRunFactory, ProductActiveOfferFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _schema():
    """The schema /api/schema/ serves, generated from the views (no database needed)."""
    from drf_spectacular.generators import SchemaGenerator

    return schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


schema = _schema()


@pytest.fixture
def wsgi_app():
    """Django's WSGI application inside the test's transaction: like the test client, requests
    must not close the test's database connection at their end."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def operator_token(role_user, settings):
    settings.API_REQUESTS_PER_MINUTE = 100_000
    settings.API_JOBS_PER_MINUTE = 100_000
    JobRunFactory()
    ProductActiveOfferFactory()
    FeedRunFactory(rejected_rows=[{"line": 2, "reason": "no price", "raw": {"sku": "A"}}])
    _row, token = api_token_create(user=role_user("operator"), name="schemathesis")
    return token


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case, operator_token, wsgi_app):
    case.call_and_validate(app=wsgi_app, headers={"Authorization": f"Bearer {operator_token}"}, checks=CHECKS)
