"""The API skips the middleware only the pages need (core/pages.py); the pages keep all of it."""

import pytest
from django.core.checks import run_checks
from django.test import Client, RequestFactory

from events_face.config.checks import pages_middleware_complete
from events_face.core.pages import is_api_request

pytestmark = pytest.mark.django_db


def test_an_api_answer_sets_no_cookie_and_keeps_the_pages_security_headers(auth_client):
    response = auth_client.get("/api/events/")

    assert response.status_code == 200
    assert not response.cookies  # no session, no CSRF token
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "nonce" not in policy  # no API answer is a template
    assert int(response["Content-Length"]) == len(response.content)
    assert response["Content-Language"] == "en"  # the language still chosen for the API


def test_an_api_error_keeps_its_language(api_client):
    response = api_client.get("/api/events/", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 401
    assert response["Content-Language"] == "ru"
    assert response.json()["error"]["message"] != "Authentication credentials were not provided."


def test_the_admin_keeps_its_session_csrf_and_nonce():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")

    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    assert "nonce-" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    # A login without the token is refused by CSRF, which runs for the pages only.
    refused = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert refused.status_code == 403


def test_the_api_docs_are_a_page_with_the_nonce(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert "nonce-" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "debug", "api"),
    [
        ("/api/events/", False, True),
        ("/api/calendar/token/", False, True),
        ("/api/docs/", False, False),
        ("/api/schema/", False, False),
        ("/admin/", False, False),
        ("/", False, False),
        # DRF's browsable API is a page: with DEBUG on, the whole chain runs for it.
        ("/api/events/", True, False),
    ],
)
def test_which_requests_are_the_apis(path, debug, api, settings):
    settings.DEBUG = debug

    assert is_api_request(RequestFactory().get(path)) is api


def test_the_deployment_check_names_what_pages_middleware_lacks(settings):
    assert pages_middleware_complete(None) == []

    settings.PAGES_MIDDLEWARE = [
        path for path in settings.PAGES_MIDDLEWARE if path != "django.middleware.csrf.CsrfViewMiddleware"
    ]

    (error,) = pages_middleware_complete(None)
    assert error.id == "events_face.E006"
    assert "PAGES_MIDDLEWARE" in error.msg
    assert "events_face.E006" in {message.id for message in run_checks()}


def test_axes_must_stay_last(settings):
    pages = list(settings.PAGES_MIDDLEWARE)
    settings.PAGES_MIDDLEWARE = [pages[-1], *pages[:-1]]

    assert [error.id for error in pages_middleware_complete(None)] == ["events_face.E006"]
