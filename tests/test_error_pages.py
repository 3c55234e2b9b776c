"""JSON error bodies under /api/ only; everywhere else (the admin) Django's own HTML error pages."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.support.crashing_urls")]


@pytest.fixture
def production_client(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


def test_a_crash_outside_the_api_is_an_html_500(production_client):
    response = production_client.get("/crash/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Server Error (500)" in response.content
    assert b'"error"' not in response.content


def test_a_crash_in_the_api_is_a_json_500(production_client):
    response = production_client.get("/api/crash/")

    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error", "message": "Internal server error."}}


def test_an_unknown_page_outside_the_api_is_an_html_404(production_client):
    response = production_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not Found" in response.content
    assert b'"error"' not in response.content


def test_an_unknown_admin_page_is_an_html_404(staff_client, settings):
    settings.DEBUG = False

    response = staff_client.get("/admin/no/such/page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unknown_api_path_is_still_a_json_404(production_client):
    response = production_client.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_bad_request_outside_the_api_is_an_html_400(production_client):
    # A Host header outside ALLOWED_HOSTS is a SuspiciousOperation: Django answers 400.
    response = production_client.get("/no-such-page/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_bad_request_in_the_api_is_a_json_400(production_client):
    response = production_client.get("/api/events/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
