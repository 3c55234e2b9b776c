"""The OpenAPI schema and the Swagger UI."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def schema(api_client) -> dict:
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_every_operation_documents_its_error_responses_with_the_error_shape(api_client):
    paths = schema(api_client)["paths"]

    for path, operations in paths.items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            assert errors, f"{method.upper()} {path} documents no error"
            for response in errors.values():
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", f"{method.upper()} {path}"


def test_protected_operations_document_401(api_client):
    paths = schema(api_client)["paths"]

    for path in ["/api/events/", "/api/events/{event_id}/", "/api/events/{event_id}/register/", "/api/registrations/"]:
        for operation in paths[path].values():
            assert "401" in operation["responses"], path


def test_swagger_ui_is_served_with_its_assets_from_the_package(api_client):
    page = api_client.get("/api/docs/")

    assert page.status_code == 200
    assert b"swagger-ui" in page.content
    assert b"cdn" not in page.content.lower()
    asset = api_client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
