"""The waiting list's notifications: one topic per change, in the registration's language,
each that holds a confirmation code ending with it (so `notification_secrets` keeps it out of logs)."""

import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from events_face.events.notifications import (
    cancellation_notification,
    notification_secrets,
    promotion_notification,
    waitlist_joined_notification,
)
from events_face.outbox.models import OutboxMessage
from tests.support.factories import bearer, make_event, make_user

NOON = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
LANGUAGES = [code for code, _name in django_settings.LANGUAGES]
COMMON = {
    "email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "event_name": "Compilers",
    "event_time": NOON,
}


def test_the_texts_in_english():
    joined = waitlist_joined_notification(notification_id=uuid.uuid4(), position=3, language="en", **COMMON)
    promoted = promotion_notification(
        notification_id=uuid.uuid4(), confirmation_code="196995", language="en", **COMMON
    )
    cancelled = cancellation_notification(notification_id=uuid.uuid4(), language="en", **COMMON)

    assert joined["message"] == (
        "Hello, Ada Lovelace! Compilers on 4 December 2026 at 12:00 UTC is full: you are on its waiting list, "
        "number 3. If a place frees up, you get it in turn and we send your confirmation code."
    )
    assert promoted["message"] == (
        "Hello, Ada Lovelace! A place has freed up: you are now registered for Compilers on "
        "4 December 2026 at 12:00 UTC. Your confirmation code: 196995"
    )
    assert (
        cancelled["message"]
        == "Hello, Ada Lovelace! Your registration for Compilers on 4 December 2026 at 12:00 UTC is cancelled."
    )


def test_the_texts_in_russian():
    joined = waitlist_joined_notification(notification_id=uuid.uuid4(), position=3, language="ru", **COMMON)
    cancelled = cancellation_notification(notification_id=uuid.uuid4(), language="ru", **COMMON)

    assert "в листе ожидания под номером 3" in joined["message"]
    assert "4 декабря 2026 г. в 12:00 (UTC)" in joined["message"]
    assert "отменена" in cancelled["message"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_promotion_ends_with_its_code_in_every_language(language):
    text = promotion_notification(
        notification_id=uuid.uuid4(), confirmation_code="196995", language=language, **COMMON
    )["message"]

    assert text.split()[-1] == "196995"
    assert notification_secrets({"message": text}) == [text, "196995"]


@pytest.mark.django_db
def test_each_change_is_notified_once_in_the_registrations_language():
    event = make_event(capacity=1)
    english, russian = APIClient(), APIClient()
    english.credentials(HTTP_AUTHORIZATION=bearer(make_user()))
    russian.credentials(HTTP_AUTHORIZATION=bearer(make_user()), HTTP_ACCEPT_LANGUAGE="ru")
    url = f"/api/events/{event.id}/register/"
    seat = english.post(url, {"full_name": "Ada", "email": "ada@example.com"}, format="json").json()
    russian.post(url, {"full_name": "Иван", "email": "ivan@example.com", "waitlist": True}, format="json")

    english.post(f"/api/registrations/{seat['id']}/cancel/")

    messages = {(m.topic, m.payload["email"]): m.payload["message"] for m in OutboxMessage.objects.all()}
    assert set(messages) == {
        ("registration.created", "ada@example.com"),
        ("registration.cancelled", "ada@example.com"),
        ("registration.waitlisted", "ivan@example.com"),
        ("registration.promoted", "ivan@example.com"),
    }
    assert messages[("registration.waitlisted", "ivan@example.com")].startswith("Здравствуйте, Иван!")
    assert "Освободилось место" in messages[("registration.promoted", "ivan@example.com")]
    assert messages[("registration.cancelled", "ada@example.com")].startswith("Hello, Ada!")


@pytest.mark.django_db
def test_the_new_errors_come_in_russian():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(make_user()), HTTP_ACCEPT_LANGUAGE="ru")

    missing = client.post(f"/api/registrations/{uuid.uuid4()}/cancel/")
    not_boolean = client.post(
        f"/api/events/{make_event().id}/register/",
        {"full_name": "A", "email": "a@example.com", "waitlist": "yes"},
        format="json",
    )

    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "Регистрации с таким идентификатором нет.",
    }
    assert not_boolean.json()["error"]["fields"]["waitlist"] == ["Должно быть true или false."]
