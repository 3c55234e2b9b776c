"""A JSON body nested deeper than the parser goes is bad input (400 `invalid`), never a 500.

Every operation that takes a JSON body is found in the OpenAPI schema, so an
endpoint added later is covered without being listed here.
"""

import base64

import httpx
import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.support.factories import bearer, make_event, make_staff_user

pytestmark = pytest.mark.django_db

# 1,500 levels, 3 KB: far deeper than any body the API takes, well under the size limit.
DEPTH = 1500
DEEP_BODY = "[" * DEPTH + "]" * DEPTH


def operations_with_a_json_body() -> list[tuple[str, str]]:
    # Generated without a request or a database: this runs at collection.
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


OPERATIONS = operations_with_a_json_body()


def test_the_operations_found_include_sign_up_login_and_registration():
    assert {("POST", "/api/auth/register/"), ("POST", "/api/auth/login/")} <= set(OPERATIONS)
    assert ("POST", "/api/events/{event_id}/register/") in OPERATIONS


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_a_deeply_nested_body_is_400_invalid(api_client, method, path):
    # A valid token, so the operations that need one get as far as reading the body.
    # A superuser: the check-in operations answer anyone else with a 403 before reading the body.
    api_client.credentials(HTTP_AUTHORIZATION=bearer(make_staff_user()))
    url = path.replace("{event_id}", str(make_event().id))

    response = api_client.generic(method, url, DEEP_BODY, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()) == {"error"}


def operations_with_a_cursor() -> list[str]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return [
        path
        for path, operations in paths.items()
        for operation in operations.values()
        if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
    ]


CURSOR_PATHS = operations_with_a_cursor()


def test_both_lists_take_a_cursor():
    assert set(CURSOR_PATHS) == {"/api/events/", "/api/registrations/"}


@pytest.mark.parametrize("path", CURSOR_PATHS)
def test_a_cursor_holding_deeply_nested_json_is_400_invalid_cursor(auth_client, path):
    # A cursor is base64 of JSON: a forged one may nest as deep as a body.
    cursor = base64.urlsafe_b64encode(DEEP_BODY.encode()).decode()

    response = auth_client.get(path, {"cursor": cursor})

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.django_db(transaction=True)
def test_a_server_thread_survives_the_deepest_body_the_size_limit_lets_through(live_server, settings):
    # A real server thread (its own, smaller stack): nesting up to the body size limit.
    depth = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2 - 1
    body = "[" * depth + "]" * depth

    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        deep = client.post("/api/auth/login", content=body, headers={"Content-Type": "application/json"})
        after = client.get("/api/health/")

    assert deep.status_code == 400
    assert deep.json()["error"]["code"] == "invalid"
    assert after.status_code == 200
