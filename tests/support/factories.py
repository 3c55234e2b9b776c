"""Small factories for the models tests create, and the Bearer header of a user's token."""

import itertools
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from events_face.events.models import Event, Venue

# Numbers for default names, unique within a test run.
_serial = itertools.count(1)


def make_user(username: str | None = None, password: str = "correct-horse-battery-9"):
    username = username or f"user{next(_serial)}"
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=password
    )


def make_staff_user():
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-1")


def bearer(user) -> str:
    """The Authorization header value of a fresh access token for `user`."""
    return f"Bearer {RefreshToken.for_user(user).access_token}"


def make_venue(**fields) -> Venue:
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("name", f"Hall {next(_serial)}")
    return Venue.objects.create(**fields)


def make_event(**fields) -> Event:
    """A published event ten days ahead, open for registration until the day before."""
    now = timezone.now()
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("name", f"Event {next(_serial)}")
    fields.setdefault("event_time", now + timedelta(days=10))
    fields.setdefault("registration_deadline", now + timedelta(days=9))
    fields.setdefault("status", Event.Status.PUBLISHED)
    fields.setdefault("provider_changed_at", now)
    return Event.objects.create(**fields)
