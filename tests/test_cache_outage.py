"""A cache that does not answer (CACHE_URL's Redis down) lifts the rate limits and
stops nothing: sign-up, login and registration still answer, never a 500.

The cache here is Django's Redis backend pointed at a port where nothing listens:
the real client failing the real way.
"""

import logging

import pytest

from tests.support.factories import make_event

pytestmark = pytest.mark.django_db

UNREACHABLE = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:9/0",
    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
# The responses' cache and the rate-limit counters' (config/settings/cache.py).
UNREACHABLE_REDIS = {"default": UNREACHABLE, "throttle": {**UNREACHABLE, "LOCATION": "redis://127.0.0.1:9/1"}}


@pytest.fixture
def cache_down(settings):
    settings.CACHES = UNREACHABLE_REDIS


def test_sign_up_and_login_go_through_without_the_rate_limit_and_name_CACHE_URL(api_client, cache_down, caplog):
    credentials = {"username": "outage", "email": "outage@example.com", "password": "correct-horse-battery-9"}

    with caplog.at_level(logging.WARNING, logger="events_face.core.throttling"):
        signed_up = api_client.post("/api/auth/register", credentials, format="json")
        logged_in = api_client.post(
            "/api/auth/login", {"username": "outage", "password": credentials["password"]}, format="json"
        )

    assert signed_up.status_code == 201, signed_up.content
    assert logged_in.status_code == 200, logged_in.content
    assert "CACHE_URL" in caplog.text


def test_a_registration_goes_through(auth_client, cache_down):
    event = make_event(capacity=5)

    response = auth_client.post(
        f"/api/events/{event.id}/register/", {"full_name": "Ada Lovelace", "email": "ada@example.com"}, format="json"
    )

    assert response.status_code == 201, response.content
