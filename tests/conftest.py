"""Fixtures shared by the whole suite: API clients, users, model factories."""

import itertools
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from events_face.events.models import Event, Venue

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_throttle_counters():
    """Each test starts with no requests counted against the auth rate limit."""
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def make_user(username: str | None = None, password: str = "correct-horse-battery-9"):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=password
    )


def bearer(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def auth_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def make_venue(**fields) -> Venue:
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("name", f"Hall {next(_counter)}")
    return Venue.objects.create(**fields)


def make_event(**fields) -> Event:
    now = timezone.now()
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("name", f"Event {next(_counter)}")
    fields.setdefault("event_time", now + timedelta(days=10))
    fields.setdefault("registration_deadline", now + timedelta(days=9))
    fields.setdefault("status", Event.Status.PUBLISHED)
    fields.setdefault("provider_changed_at", now)
    return Event.objects.create(**fields)
