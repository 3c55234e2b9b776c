"""End to end: a registration made in Russian reaches the notifications service in Russian, one
made in English in English, each with the event's time in NOTIFICATIONS_TIME_ZONE, through the
real `manage.py worker` process and the notifications emulator."""

from datetime import UTC, datetime

import pytest

from events_face.events.cancel_links import cancel_link
from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event
from tests.support.outbox import worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_registration_is_notified_in_its_own_language_in_the_display_time_zone(
    auth_client, settings, workers, notifications_service
):
    # Read where registrations are made: the text is written with the registration.
    settings.NOTIFICATIONS_TIME_ZONE = "Europe/Moscow"
    event = make_event(
        name="Compilers", event_time=datetime(2026, 12, 4, 12, 0, tzinfo=UTC), registration_deadline=None
    )
    for email, language in [("ada@example.com", "ru"), ("grace@example.com", None)]:
        headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
        response = auth_client.post(
            f"/api/events/{event.id}/register/",
            {"full_name": "Ada Lovelace", "email": email},
            format="json",
            **headers,
        )
        assert response.status_code == 201, response.content

    # The worker's own language and zone play no part: it sends the text as written.
    code, output = workers.run(
        worker_env(notifications_service, LANGUAGE_CODE="en", NOTIFICATIONS_TIME_ZONE="UTC"), "--once"
    )

    assert code == 0, output
    assert not OutboxMessage.objects.filter(sent=False).exists()
    received = {
        notification["email"]: notification["message"] for notification in notifications_service.accepted()
    }
    russian = Registration.objects.get(email="ada@example.com")
    english = Registration.objects.get(email="grace@example.com")
    assert received == {
        "ada@example.com": (
            "Здравствуйте, Ada Lovelace! Вы зарегистрированы на событие «Compilers», "
            f"4 декабря 2026 г. в 15:00 (MSK). Отменить: {cancel_link(registration_id=russian.id)} "
            f"Ваш код подтверждения: {russian.confirmation_code}"
        ),
        "grace@example.com": (
            "Hello, Ada Lovelace! You are registered for Compilers on 4 December 2026 at 15:00 MSK. "
            f"To cancel: {cancel_link(registration_id=english.id)} Your confirmation code: {english.confirmation_code}"
        ),
    }
