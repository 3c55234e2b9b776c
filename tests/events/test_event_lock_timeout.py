"""A write for an event waits for the event's lock at most REGISTRATION_LOCK_TIMEOUT_SECONDS,
then answers 503 `busy` with Retry-After, having written nothing.

Another connection holds the lock, as a long transaction would: the event's row lock
(`SELECT ... FOR UPDATE`) on PostgreSQL, the database's write lock on SQLite.
"""

import sqlite3
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection

from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event, make_registration

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 0.5  # seconds


@contextmanager
def event_lock_held_elsewhere(event):
    """Another connection holds the event's lock until the block ends."""
    if connection.vendor == "postgresql":
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params) as other:
            other.execute("SELECT id FROM events_event WHERE id = %s FOR UPDATE", [event.id])
            yield
            other.rollback()
    else:
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            yield
            other.rollback()
        finally:
            other.close()


@pytest.fixture
def short_lock_timeout(settings):
    settings.REGISTRATION_LOCK_TIMEOUT_SECONDS = TIMEOUT


def assert_busy(response, started: float) -> None:
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "busy"
    assert int(response["Retry-After"]) >= 1
    # About the timeout: not the 20 s SQLite busy timeout, nor an unbounded PostgreSQL wait.
    assert TIMEOUT <= elapsed < TIMEOUT + 4, elapsed


def test_a_registration_that_cannot_get_the_event_lock_is_503_busy_and_writes_nothing(
    auth_client, short_lock_timeout
):
    event = make_event(capacity=5)

    with event_lock_held_elsewhere(event):
        started = time.monotonic()
        response = auth_client.post(
            f"/api/events/{event.id}/register/",
            {"full_name": "Ada", "email": "ada@example.com"},
            format="json",
        )

    assert_busy(response, started)
    assert not Registration.objects.exists()
    assert not OutboxMessage.objects.exists()
    # Once the lock is free, the same request goes through.
    again = auth_client.post(
        f"/api/events/{event.id}/register/", {"full_name": "Ada", "email": "ada@example.com"}, format="json"
    )
    assert again.status_code == 201


def test_a_cancellation_that_cannot_get_the_event_lock_is_503_busy_and_changes_nothing(
    auth_client, user, short_lock_timeout
):
    event = make_event()
    registration = make_registration(event_id=event.id, user=user)
    messages_before = OutboxMessage.objects.count()

    with event_lock_held_elsewhere(event):
        started = time.monotonic()
        response = auth_client.post(f"/api/registrations/{registration.id}/cancel/")

    assert_busy(response, started)
    assert Registration.objects.get(pk=registration.pk).status == "confirmed"
    assert OutboxMessage.objects.count() == messages_before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the busy timeout is SQLite's")
def test_after_a_locked_write_the_connection_waits_as_configured_again(auth_client, short_lock_timeout):
    event = make_event(capacity=5)

    response = auth_client.post(
        f"/api/events/{event.id}/register/", {"full_name": "Ada", "email": "ada@example.com"}, format="json"
    )

    assert response.status_code == 201
    with connection.cursor() as cursor:
        (milliseconds,) = cursor.execute("PRAGMA busy_timeout").fetchone()
    assert milliseconds == connection.settings_dict["OPTIONS"]["timeout"] * 1000
