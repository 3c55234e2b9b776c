"""Fixtures shared by the whole suite: API clients, users, a notifications emulator.
Factories live in `tests/support/factories.py`."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import caches
from django.utils import translation
from rest_framework.test import APIClient

from events_face.launcher import emulator_start
from tests.support.factories import client_of, make_staff_user, make_user
from tests.support.outbox import TOKEN, NotificationsService


def pytest_configure(config):
    """var/: the SQLite test database's folder (config/settings/database.py), and var/static, which
    WhiteNoise serves from with DEBUG off (`collectstatic` fills it). The settings create nothing."""
    (Path(__file__).resolve().parent.parent / "var" / "static").mkdir(parents=True, exist_ok=True)


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
    """Each test starts with no requests counted against a rate limit, and no cached response."""
    for cache in caches.all():
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
    return client_of(user)


@pytest.fixture
def staff_client(db, client):
    """Django's test client, logged in to the admin as a superuser."""
    client.force_login(make_staff_user())
    return client


@pytest.fixture
def notifications_service() -> Iterator[NotificationsService]:
    """A real notifications emulator on a free port, for this process or a worker to deliver to."""
    service = NotificationsService(emulator_start("notifications", "--token", TOKEN, "--seed", "7"))
    yield service
    service.close()
