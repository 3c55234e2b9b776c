"""A registration keeps the language of its request, and its notification is written in it."""

from datetime import UTC, datetime

import pytest

from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event
from tests.support.migrations import migrated_to

ADA = {"full_name": "Ada Lovelace", "email": "ada@example.com"}
DECEMBER_4_NOON_UTC = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def register(client, event, **headers):
    return client.post(f"/api/events/{event.id}/register/", ADA, format="json", **headers)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accept_language, language, expected",
    [
        ("ru", "ru", "Вы зарегистрированы на событие «Compilers», 4 декабря 2026 г. в 15:00 (MSK)."),
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru", "4 декабря 2026 г. в 15:00 (MSK)"),
        (None, "en", "You are registered for Compilers on 4 December 2026 at 15:00 MSK."),
        ("de", "en", "on 4 December 2026 at 15:00 MSK"),
    ],
)
def test_the_notification_is_written_in_the_language_of_the_request(
    auth_client, settings, accept_language, language, expected
):
    settings.NOTIFICATIONS_TIME_ZONE = "Europe/Moscow"
    event = make_event(name="Compilers", event_time=DECEMBER_4_NOON_UTC, registration_deadline=None)
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}

    response = register(auth_client, event, **headers)

    assert response.status_code == 201, response.json()
    registration = Registration.objects.get()
    assert registration.language == language
    text = OutboxMessage.objects.get().payload["message"]
    assert expected in text
    assert text.endswith(registration.confirmation_code)


@pytest.mark.django_db
def test_a_replayed_registration_keeps_its_first_language_and_sends_nothing_new(auth_client):
    event = make_event()
    first = register(auth_client, event, HTTP_ACCEPT_LANGUAGE="ru", HTTP_IDEMPOTENCY_KEY="k1")

    replay = register(auth_client, event, HTTP_IDEMPOTENCY_KEY="k1")

    assert replay.status_code == 201 and replay.json() == first.json()
    assert Registration.objects.get().language == "ru"
    assert OutboxMessage.objects.count() == 1


MIGRATION = ("events", "0004_registration_language")
BEFORE = ("events", "0003_catalogue_triggers_and_name_trigram")


@pytest.mark.django_db(transaction=True)
def test_registrations_made_before_languages_were_kept_say_english(user):
    event = make_event()
    with migrated_to(BEFORE) as old_apps:
        old_apps.get_model("events", "Registration").objects.create(
            event_id=event.id,
            user_id=user.id,
            full_name="Ada",
            email="ada@example.com",
            confirmation_code="123456",
        )

    assert Registration.objects.get().language == "en"
