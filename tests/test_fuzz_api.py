"""Property-based fuzzing of every API operation from its own OpenAPI schema.

Whatever schemathesis generates (valid, invalid, hostile), the answer is never
a 5xx, and every error body has the documented shape.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.support.factories import bearer, make_event, make_user

# Generating the schema needs no database: it is loaded once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: requests must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def error_shape_is_documented(response):
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
        for messages in body["error"].get("fields", {}).values():
            assert all(isinstance(message, str) for message in messages)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_no_input_makes_the_api_fail(case, keep_test_connection):
    make_event()
    token = bearer(make_user())
    response = case.call(headers={"Authorization": token})

    assert response.status_code < 500, case.as_curl_command()
    error_shape_is_documented(response)
