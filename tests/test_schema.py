"""The OpenAPI schema and the Swagger UI."""

import pytest
import yaml
from django.core.management import call_command

from tests.support.factories import bearer, make_event, make_staff_user

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def schema(api_client) -> dict:
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


# Errors whose detail carries typed fields beyond the code and the message (core/schema.py,
# `error_with_details`), by operation and status; every other error is `Error`.
DETAILED_ERRORS = {("/api/events/{event_id}/check-in/", "post", "409"): "CheckInConflict"}


def test_every_operation_documents_its_error_responses_with_the_error_shape(api_client):
    document = schema(api_client)
    components = document["components"]["schemas"]

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            assert errors, f"{method.upper()} {path} documents no error"
            for code, response in errors.items():
                ref = response["content"]["application/json"]["schema"]["$ref"]
                name = DETAILED_ERRORS.get((path, method, code), "Error")
                assert ref == f"#/components/schemas/{name}", f"{method.upper()} {path} {code}"
    for name in DETAILED_ERRORS.values():
        assert components[name]["required"] == ["error"]
        detail = components[name]["properties"]["error"]["$ref"].rsplit("/", 1)[1]
        assert components[detail]["required"] == ["code", "message"], name


# Operations behind the JWT, one of each kind: catalogue reads, a write, the user's own list.
JWT_PATHS = [
    "/api/events/",
    "/api/events/{event_id}/",
    "/api/events/{event_id}/register/",
    "/api/registrations/",
]


def test_protected_operations_document_401(api_client):
    paths = schema(api_client)["paths"]

    for path in JWT_PATHS:
        for operation in paths[path].values():
            assert "401" in operation["responses"], path


def test_swagger_ui_is_served_with_its_assets_from_the_package(api_client):
    page = api_client.get("/api/docs/")

    assert page.status_code == 200
    assert b"swagger-ui" in page.content
    assert b"cdn" not in page.content.lower()
    asset = api_client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


METRICS_TOKEN = "metrics-token-for-schema-tests"


def credentials(user) -> dict[str, str]:
    """An Authorization header for each security scheme the schema may declare."""
    return {"jwtAuth": bearer(user), "metricsToken": f"Bearer {METRICS_TOKEN}"}


def call(client, method: str, path: str, operation: dict, authorization: str | None):
    url = path.replace("{event_id}", str(make_event().id))
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    if "requestBody" in operation:
        return client.generic(method.upper(), url, "{}", content_type="application/json", **headers)
    return client.generic(method.upper(), url, **headers)


def test_each_operation_declares_exactly_the_credentials_it_needs(api_client, settings):
    """What each operation needs is observed, not assumed: it is called without credentials, then with each kind.

    An operation that answers an anonymous caller declares no security
    requirement (a generated client would demand credentials it does not
    need); one that refuses it declares exactly the schemes whose
    credentials it accepts.
    """
    settings.METRICS_TOKEN = METRICS_TOKEN
    # A superuser: the check-in operations accept only check-in staff (a 403 for anyone else).
    offered = credentials(make_staff_user())
    paths = schema(api_client)["paths"]

    for path, operations in paths.items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            declared = operation.get("security", [])
            anonymous = call(api_client, method, path, operation, None)
            if anonymous.status_code not in (401, 403):
                assert declared == [], f"{name} answers anonymous callers but declares {declared}"
                continue
            accepted = [
                scheme
                for scheme, authorization in offered.items()
                if call(api_client, method, path, operation, authorization).status_code not in (401, 403)
            ]
            assert accepted, f"{name} accepts none of {list(offered)}"
            assert declared == [{scheme: []} for scheme in accepted], name


def test_jwt_operations_declare_the_bearer_jwt_and_public_ones_nothing(api_client):
    paths = schema(api_client)["paths"]

    for path in JWT_PATHS:
        for operation in paths[path].values():
            assert operation["security"] == [{"jwtAuth": []}], path
    public = [
        "/api/auth/register/",
        "/api/auth/login/",
        "/api/auth/token/",
        "/api/auth/token/refresh/",
        "/api/auth/logout/",
        "/api/health/",
    ]
    for path in public:
        for operation in paths[path].values():
            assert "security" not in operation, path


def test_metrics_declare_their_own_static_bearer_token_not_the_jwt(api_client):
    document = schema(api_client)

    assert document["paths"]["/api/metrics/"]["get"]["security"] == [{"metricsToken": []}]
    assert document["components"]["securitySchemes"]["metricsToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The value of METRICS_TOKEN.",
    }


# Properties a response may leave out, each for a reason the schema states.
OPTIONAL_RESPONSE_PROPERTIES = {
    ("ErrorDetail", "fields"),  # only for invalid input
    ("CheckInConflictDetail", "registration"),  # only for already_checked_in
}


def test_every_property_a_response_always_carries_is_required(api_client):
    components = schema(api_client)["components"]["schemas"]

    for name, component in components.items():
        if name.endswith("Request") or component.get("type") != "object":
            continue  # request bodies, enums
        for prop in component.get("properties", {}):
            if (name, prop) not in OPTIONAL_RESPONSE_PROPERTIES:
                assert prop in component.get("required", []), f"{name}.{prop} is always sent but not required"
