"""The waiting list and cancellation through the API: POST /register/ with `waitlist`,
POST /api/registrations/{id}/cancel/, GET /api/registrations/?status=."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from events_face.events.models import Event, Registration
from events_face.events.notifications import CANCELLATION_TOPIC, PROMOTION_TOPIC, WAITLIST_JOINED_TOPIC
from events_face.outbox.models import OutboxMessage
from tests.support.factories import bearer, make_event, make_user

pytestmark = pytest.mark.django_db


def person(number: int, **extra) -> dict:
    return {"full_name": f"Person {number}", "email": f"person{number}@example.com", **extra}


def register(client, event, body):
    return client.post(f"/api/events/{event.id}/register/", body, format="json")


def cancel(client, registration_id, **extra):
    return client.post(f"/api/registrations/{registration_id}/cancel/", format="json", **extra)


def topics() -> list[str]:
    return list(OutboxMessage.objects.order_by("created_at", "id").values_list("topic", flat=True))


@pytest.fixture
def full_event(auth_client):
    """An event of two seats, both taken."""
    event = make_event(capacity=2)
    for number in (1, 2):
        assert register(auth_client, event, person(number)).status_code == 201
    return event


def test_a_full_event_with_waitlist_answers_201_waitlisted_with_the_position(auth_client, full_event):
    first = register(auth_client, full_event, person(3, waitlist=True))
    second = register(auth_client, full_event, person(4, waitlist=True))

    assert first.status_code == 201 and second.status_code == 201
    assert (first.json()["status"], first.json()["waitlist_position"]) == ("waitlisted", 1)
    assert (second.json()["status"], second.json()["waitlist_position"]) == ("waitlisted", 2)
    assert first.json()["confirmed_at"] is None
    waiting = Registration.objects.get(pk=first.json()["id"])
    assert waiting.confirmation_code == ""
    message = OutboxMessage.objects.get(topic=WAITLIST_JOINED_TOPIC, payload__email="person3@example.com")
    assert "number 1" in message.payload["message"]


def test_a_full_event_without_waitlist_is_still_409_event_full(auth_client, full_event):
    response = register(auth_client, full_event, person(3))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_full"
    assert Registration.objects.count() == 2


def test_waitlist_on_an_event_with_seats_confirms_at_once(auth_client):
    response = register(auth_client, make_event(capacity=1), person(1, waitlist=True))

    assert (response.status_code, response.json()["status"], response.json()["waitlist_position"]) == (
        201,
        "confirmed",
        None,
    )


def test_joining_the_waiting_list_needs_the_event_open(auth_client):
    event = make_event(capacity=0, registration_deadline=timezone.now() - timedelta(minutes=1))

    response = register(auth_client, event, person(1, waitlist=True))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_closed"
    assert not Registration.objects.exists()


@pytest.mark.parametrize("value", ["true", "yes", 1, 0, None, [True], {"on": True}])
def test_waitlist_that_is_not_a_boolean_is_400(auth_client, value):
    response = register(auth_client, make_event(capacity=0), person(1, waitlist=value))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "waitlist" in response.json()["error"]["fields"]
    assert not Registration.objects.exists() and not OutboxMessage.objects.exists()


def test_cancelling_a_confirmed_registration_promotes_the_first_waiting(auth_client, full_event):
    confirmed = Registration.objects.get(email="person1@example.com")
    first = register(auth_client, full_event, person(3, waitlist=True)).json()
    second = register(auth_client, full_event, person(4, waitlist=True)).json()

    response = cancel(auth_client, confirmed.id)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_at"] is not None
    promoted = Registration.objects.get(pk=first["id"])
    assert promoted.status == "confirmed" and promoted.confirmed_at is not None
    assert len(promoted.confirmation_code) == 6
    assert Registration.objects.get(pk=second["id"]).status == "waitlisted"
    listed = auth_client.get("/api/registrations/?status=waitlisted").json()["results"]
    assert [(row["id"], row["waitlist_position"]) for row in listed] == [(second["id"], 1)]
    message = OutboxMessage.objects.get(topic=PROMOTION_TOPIC)
    assert message.payload["email"] == "person3@example.com"
    assert message.payload["message"].split()[-1] == promoted.confirmation_code


def test_cancelling_twice_answers_the_same_and_frees_one_seat_and_notifies_once(auth_client, full_event):
    confirmed = Registration.objects.get(email="person1@example.com")
    for number in (3, 4):
        register(auth_client, full_event, person(number, waitlist=True))

    first = cancel(auth_client, confirmed.id)
    again = cancel(auth_client, confirmed.id, data={"reason": "ignored"})

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert Registration.objects.filter(event=full_event, status="confirmed").count() == 2
    assert Registration.objects.filter(event=full_event, status="waitlisted").count() == 1
    assert topics().count(CANCELLATION_TOPIC) == 1
    assert topics().count(PROMOTION_TOPIC) == 1


def test_a_waitlisted_registration_can_be_cancelled_and_the_positions_close_up(auth_client, full_event):
    first = register(auth_client, full_event, person(3, waitlist=True)).json()
    second = register(auth_client, full_event, person(4, waitlist=True)).json()
    third = register(auth_client, full_event, person(5, waitlist=True)).json()

    assert cancel(auth_client, second["id"]).json()["status"] == "cancelled"

    listed = auth_client.get("/api/registrations/?status=waitlisted").json()["results"]
    assert sorted((row["id"], row["waitlist_position"]) for row in listed) == sorted(
        [(first["id"], 1), (third["id"], 2)]
    )
    assert Registration.objects.filter(event=full_event, status="confirmed").count() == 2


def test_a_person_who_cancelled_may_register_again(auth_client):
    event = make_event()
    first = register(auth_client, event, person(1)).json()
    cancel(auth_client, first["id"])

    again = register(auth_client, event, person(1))

    assert again.status_code == 201
    assert again.json()["id"] != first["id"]
    assert Registration.objects.filter(event=event).count() == 2  # the cancelled row is kept


def test_cancellation_closes_when_the_event_starts(auth_client):
    event = make_event()
    registration = register(auth_client, event, person(1)).json()
    Event.objects.filter(pk=event.pk).update(event_time=timezone.now() - timedelta(minutes=1))

    response = cancel(auth_client, registration["id"])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cancellation_closed"
    assert Registration.objects.get(pk=registration["id"]).status == "confirmed"
    assert CANCELLATION_TOPIC not in topics()


@pytest.mark.parametrize("kind", ["another user's", "unknown", "malformed"])
def test_another_users_unknown_or_malformed_registration_is_the_same_404(auth_client, kind):
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=bearer(make_user()))
    theirs = register(other, make_event(), person(1)).json()["id"]
    registration_id = {
        "another user's": theirs,
        "unknown": "6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11",
        "malformed": "not-an-id",
    }[kind]

    response = cancel(auth_client, registration_id)

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No registration with this id."}}
    assert Registration.objects.get(pk=theirs).status == "confirmed"


def test_cancelling_without_a_token_is_401(api_client):
    registration = Registration.objects.create(
        event=make_event(), full_name="Ada", email="ada@example.com", confirmation_code="123456"
    )

    assert cancel(api_client, registration.id).status_code == 401


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_on_cancel_are_405(auth_client, method):
    registration = register(auth_client, make_event(), person(1)).json()

    response = getattr(auth_client, method)(f"/api/registrations/{registration['id']}/cancel/")

    assert response.status_code == 405
    assert Registration.objects.get(pk=registration["id"]).status == "confirmed"


def test_the_registration_list_filters_by_status(auth_client, full_event):
    register(auth_client, full_event, person(3, waitlist=True))

    statuses = {
        status: [
            row["status"] for row in auth_client.get(f"/api/registrations/?status={status}").json()["results"]
        ]
        for status in ("confirmed", "waitlisted", "cancelled")
    }

    assert statuses == {"confirmed": ["confirmed"] * 2, "waitlisted": ["waitlisted"], "cancelled": []}


def test_an_unknown_status_filter_is_400(auth_client):
    response = auth_client.get("/api/registrations/?status=pending")

    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_raising_the_capacity_in_the_service_promotes_in_order(auth_client, full_event):
    from events_face.events.lifecycle import event_capacity_set

    ids = [register(auth_client, full_event, person(n, waitlist=True)).json()["id"] for n in (3, 4, 5)]

    change = event_capacity_set(event_id=full_event.id, capacity=4)

    assert change.promoted == 2
    assert [Registration.objects.get(pk=i).status for i in ids] == ["confirmed", "confirmed", "waitlisted"]
    assert event_capacity_set(event_id=full_event.id, capacity=None).promoted == 1
