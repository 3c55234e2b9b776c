"""Fixtures shared by the whole suite: API clients and users. Factories live in `tests/support/factories.py`."""

import pytest
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from tests.support.factories import bearer, make_staff_user, make_user


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_unless_asked(settings):
    """Tests see English unless they ask for another language (Accept-Language, translation.override),
    whatever LANGUAGE_CODE a local .env sets, and no test inherits the language a request left active."""
    if settings.LANGUAGE_CODE != "en":
        settings.LANGUAGE_CODE = "en"
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_throttle_counters():
    """Each test starts with no requests counted against the auth rate limit."""
    cache.clear()


@pytest.fixture(autouse=True)
def closed_response_cache_breaker():
    """No test inherits the response cache's circuit breaker tripped by another's broken cache."""
    from events_face.events.response_cache import CircuitBreaker

    CircuitBreaker.open_until = CircuitBreaker.last_warning = float("-inf")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def auth_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


@pytest.fixture
def staff_client(db, client):
    """Django's test client, logged in to the admin as a superuser."""
    client.force_login(make_staff_user())
    return client
