"""A POST (or any unsafe method) to an unknown /api/ path is the API's JSON 404, not Django's CSRF page.

The API authenticates with JWT in the Authorization header, never with the session
cookie, so CSRF has nothing to protect there. Django's test client skips the CSRF
check unless asked, so these clients enforce it, as a browser-less curl meets it.
"""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("debug", [False, True])
def test_an_unsafe_request_to_an_unknown_api_path_is_a_json_404(settings, method, debug):
    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)("/api/no-such-thing/", data={}, content_type="application/json")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_the_admin_still_checks_csrf():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/admin/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
