"""The signed cancel link every notification of an active registration carries: GET describes,
POST cancels through the same service, without an account; a forged or foreign token is a 404."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from events_face.events.models import Event, Registration
from events_face.events.notifications import CANCEL_LINK_PATH, notification_secrets
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event, make_registration

pytestmark = pytest.mark.django_db


def link_in(message: OutboxMessage) -> str:
    (link,) = [word for word in message.payload["message"].split() if CANCEL_LINK_PATH in word]
    return link


def test_every_active_registrations_notification_carries_its_link_before_the_code(settings):
    settings.PUBLIC_BASE_URL = "https://events.example.com/"
    event = make_event(capacity=1)
    seated = make_registration(event_id=event.id)
    make_registration(event_id=event.id, waitlist=True)

    for message in OutboxMessage.objects.all():
        link = link_in(message)
        assert link.startswith(f"https://events.example.com{CANCEL_LINK_PATH}")
        assert link in notification_secrets(message.payload)
    created = OutboxMessage.objects.get(topic="registration.created")
    assert created.payload["message"].split()[-1] == seated.confirmation_code


def test_get_describes_and_post_cancels_without_an_account(api_client):
    event = make_event(capacity=1)
    seated = make_registration(event_id=event.id)
    waiting = make_registration(event_id=event.id, waitlist=True)
    path = (
        link_in(OutboxMessage.objects.get(topic="registration.created")).split("://", 1)[1].split("/", 1)[1]
    )

    described = api_client.get(f"/{path}")
    cancelled = api_client.post(f"/{path}")
    again = api_client.post(f"/{path}")

    assert described.status_code == 200
    assert (described.json()["id"], described.json()["status"]) == (str(seated.id), "confirmed")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.json() == cancelled.json()
    assert Registration.objects.get(pk=waiting.pk).status == "confirmed"  # promoted, as by the owner
    assert OutboxMessage.objects.filter(topic="registration.cancelled").count() == 1


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "tampered", "foreign salt"],
)
def test_a_forged_altered_or_foreign_token_is_404(api_client, token):
    registration = make_registration()
    good = link_in(OutboxMessage.objects.get(topic="registration.created")).rstrip("/").rsplit("/", 1)[1]
    token = {
        "not-a-token": "not-a-token",
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "foreign salt": signing.dumps(str(registration.id)),
    }[token]

    for response in [
        api_client.get(f"{CANCEL_LINK_PATH}{token}/"),
        api_client.post(f"{CANCEL_LINK_PATH}{token}/"),
    ]:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert Registration.objects.get(pk=registration.pk).status == "confirmed"


def test_the_link_stops_cancelling_when_the_event_starts(api_client):
    event = make_event()
    registration = make_registration(event_id=event.id)
    link = link_in(OutboxMessage.objects.get(topic="registration.created"))
    Event.objects.filter(pk=event.pk).update(event_time=timezone.now() - timedelta(minutes=1))

    response = api_client.post(link.split("://", 1)[1].split("/", 1)[1].join(["/", ""]))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cancellation_closed"
    assert Registration.objects.get(pk=registration.pk).status == "confirmed"
