"""The registration limit (REGISTRATION_THROTTLE_RATE) counts registration attempts, POSTs, only:
a GET, DELETE, PUT or OPTIONS to `/register/` changes nothing and uses up none of it."""

import pytest
from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from tests.support.factories import make_event

pytestmark = pytest.mark.django_db

ALLOWED, _PERIOD = ScopedRateThrottle().parse_rate(
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["registration"]
)


def test_requests_that_are_not_posts_use_up_no_registrations(auth_client):
    event = make_event()
    url = f"/api/events/{event.id}/register/"
    for method in ("get", "delete", "put", "patch", "options", "head"):
        for _ in range(ALLOWED):
            assert getattr(auth_client, method)(url).status_code in (200, 405)

    response = auth_client.post(url, {"full_name": "Ada Lovelace", "email": "ada@example.com"}, format="json")

    assert response.status_code == 201, response.json()


def test_every_post_counts_refused_ones_too(auth_client):
    event = make_event()
    url = f"/api/events/{event.id}/register/"
    for _ in range(ALLOWED):
        assert auth_client.post(url, {"full_name": ""}, format="json").status_code == 400

    response = auth_client.post(url, {"full_name": "Ada Lovelace", "email": "ada@example.com"}, format="json")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


def test_a_get_to_the_login_uses_up_no_login_attempts(api_client):
    for _ in range(25):
        assert api_client.get("/api/auth/login").status_code == 405

    response = api_client.post("/api/auth/login", {"username": "nobody", "password": "wrong"}, format="json")

    assert response.status_code == 401
