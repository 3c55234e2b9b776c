"""POST /api/events/{id}/register/ and GET /api/registrations/."""

import dataclasses
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from events_face.events.models import Event, Registration
from events_face.events.services import registration_create
from events_face.outbox.models import OutboxMessage
from tests.support.database_faults import fault_trigger_install
from tests.support.factories import bearer, make_event, make_user

pytestmark = pytest.mark.django_db

ADA = {"full_name": "Ada Lovelace", "email": "ada@example.com"}


def register(client, event, body=None, **extra):
    return client.post(f"/api/events/{event.id}/register/", body or ADA, format="json", **extra)


def test_registering_stores_the_registration_and_its_notification_together(auth_client, user, settings):
    settings.NOTIFICATIONS_OWNER_ID = "8c2d4e6f-1a3b-4c5d-8e7f-9a0b1c2d3e4f"
    event = make_event(name="Workshop: cryptography")

    response = register(auth_client, event)

    assert response.status_code == 201
    registration = Registration.objects.get()
    assert response.json() == {
        "id": str(registration.id),
        "event": str(event.id),
        "event_name": "Workshop: cryptography",
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "status": "confirmed",
        "waitlist_position": None,
        "created_at": response.json()["created_at"],
        "confirmed_at": response.json()["confirmed_at"],
        "cancelled_at": None,
    }
    assert registration.user == user
    assert len(registration.confirmation_code) == 6 and registration.confirmation_code.isdigit()
    message = OutboxMessage.objects.get()
    assert message.sent is False
    assert message.payload["id"] == str(message.id)
    assert message.payload["owner_id"] == settings.NOTIFICATIONS_OWNER_ID
    assert message.payload["email"] == "ada@example.com"
    for part in ["Ada Lovelace", "Workshop: cryptography", registration.confirmation_code]:
        assert part in message.payload["message"]


def test_the_confirmation_code_never_appears_in_api_responses(auth_client):
    event = make_event()
    created = register(auth_client, event)
    code = Registration.objects.get().confirmation_code

    listed = auth_client.get("/api/registrations/")

    for response in [created, listed]:
        assert code not in response.content.decode()
        assert "confirmation_code" not in response.content.decode()


def test_trailing_slash_is_optional_and_post_is_not_redirected(auth_client):
    event = make_event()

    response = auth_client.post(f"/api/events/{event.id}/register", ADA, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("event_id", ["6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11", "nope"])
def test_registering_for_an_unknown_event_is_404(auth_client, event_id):
    response = auth_client.post(f"/api/events/{event_id}/register/", ADA, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("status", ["registration_closed", "finished", "cancelled"])
def test_registration_is_closed_for_other_statuses(auth_client, status):
    event = make_event(status=status)

    response = register(auth_client, event)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_closed"
    assert not Registration.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"registration_deadline": timezone.now() - timedelta(seconds=1)},
        {"event_time": timezone.now() - timedelta(minutes=5), "registration_deadline": None},
    ],
    ids=["deadline passed", "already started"],
)
def test_registration_is_closed_after_the_deadline_or_the_start(auth_client, fields):
    event = make_event(**fields)

    response = register(auth_client, event)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_closed"


def test_a_new_event_without_deadline_accepts_registrations(auth_client):
    event = make_event(status=Event.Status.NEW, registration_deadline=None)

    assert register(auth_client, event).status_code == 201


def test_the_same_email_in_another_case_is_already_registered(auth_client):
    event = make_event()
    register(auth_client, event)

    response = register(auth_client, event, {"full_name": "Ada L.", "email": "ADA@Example.COM"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_registered"
    assert Registration.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_the_same_email_may_register_for_another_event(auth_client):
    register(auth_client, make_event())

    assert register(auth_client, make_event()).status_code == 201


def test_a_full_event_refuses_registrations(auth_client):
    event = make_event(capacity=1)
    register(auth_client, event)

    response = register(auth_client, event, {"full_name": "Grace Hopper", "email": "grace@example.com"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_full"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "ada@example.com"}, "full_name"),
        ({"full_name": "Ada"}, "email"),
        ({"full_name": "Ada", "email": "not-an-email"}, "email"),
        ({"full_name": "x" * 129, "email": "ada@example.com"}, "full_name"),
        ({"full_name": "", "email": "ada@example.com"}, "full_name"),
        ({"full_name": "Ada\x00Lovelace", "email": "ada@example.com"}, "full_name"),
        ({"full_name": ["Ada"], "email": "ada@example.com"}, "full_name"),
        ({"full_name": {"first": "Ada"}, "email": "ada@example.com"}, "full_name"),
        ({"full_name": "Ada", "email": 42}, "email"),
    ],
)
def test_invalid_input_is_400_with_field_errors(auth_client, body, field):
    response = register(auth_client, make_event(), body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not Registration.objects.exists()


def test_full_name_of_exactly_128_characters_is_accepted(auth_client):
    response = register(auth_client, make_event(), {"full_name": "x" * 128, "email": "a@example.com"})

    assert response.status_code == 201


@pytest.mark.parametrize("body", ['{"full_name": "Ada",', "[1, 2]", '"just a string"', "null", "\x00"])
def test_malformed_or_wrong_shaped_json_is_400(auth_client, body):
    event = make_event()

    response = auth_client.generic(
        "POST", f"/api/events/{event.id}/register/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "error" in response.json()


def test_a_body_that_is_not_json_is_415(auth_client):
    event = make_event()

    response = auth_client.generic(
        "POST", f"/api/events/{event.id}/register/", "full_name=Ada", content_type="text/plain"
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_an_oversized_body_is_413(auth_client):
    event = make_event()
    body = json.dumps({"full_name": "Ada", "email": "ada@example.com", "pad": "x" * 200_000})

    response = auth_client.generic(
        "POST", f"/api/events/{event.id}/register/", body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not Registration.objects.exists()


def test_a_repeat_with_the_same_idempotency_key_replays_and_creates_nothing(auth_client):
    event = make_event()

    first = register(auth_client, event, HTTP_IDEMPOTENCY_KEY="key-1")
    repeat = register(auth_client, event, HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == repeat.status_code == 201
    assert repeat.json() == first.json()
    assert Registration.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_an_idempotency_key_reused_for_another_registration_is_422(auth_client):
    register(auth_client, make_event(), HTTP_IDEMPOTENCY_KEY="key-1")

    response = register(auth_client, make_event(), HTTP_IDEMPOTENCY_KEY="key-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_idempotency_keys_belong_to_one_user(api_client):
    event = make_event()
    api_client.credentials(HTTP_AUTHORIZATION=bearer(make_user()))
    register(api_client, event, HTTP_IDEMPOTENCY_KEY="shared")
    api_client.credentials(HTTP_AUTHORIZATION=bearer(make_user()))

    response = register(
        api_client, event, {"full_name": "Grace", "email": "grace@example.com"}, HTTP_IDEMPOTENCY_KEY="shared"
    )

    assert response.status_code == 201
    assert Registration.objects.count() == 2


def test_registrations_list_shows_only_the_callers_own(auth_client, api_client):
    event = make_event(name="Mine")
    register(auth_client, event)
    api_client.credentials(HTTP_AUTHORIZATION=bearer(make_user()))
    register(api_client, event, {"full_name": "Someone", "email": "someone@example.com"})

    response = auth_client.get("/api/registrations")

    assert response.status_code == 200
    assert [(r["email"], r["event_name"]) for r in response.json()["results"]] == [
        ("ada@example.com", "Mine")
    ]


def _refuse_outbox_inserts() -> None:
    """A real database failure on the outbox insert."""
    fault_trigger_install(
        "refuse_outbox", table="outbox_outboxmessage", operation="INSERT", message="outbox is down"
    )


def test_when_the_outbox_insert_fails_the_registration_is_rolled_back_too(user):
    event = make_event()
    _refuse_outbox_inserts()

    with pytest.raises(Exception, match="outbox is down"):
        registration_create(event_id=event.id, user=user, **ADA)

    assert not Registration.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_through_http_a_failed_outbox_insert_leaves_no_registration(user):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    event = make_event()
    _refuse_outbox_inserts()

    response = register(client, event)

    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error", "message": "Internal server error."}}
    assert not Registration.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_tampered_registrations_cursor_is_400(auth_client):
    response = auth_client.get("/api/registrations/?cursor=G%C2%A4%C3%8D%0A")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_an_idempotency_key_over_255_characters_is_400(auth_client):
    response = register(auth_client, make_event(), HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Registration.objects.exists()


@pytest.mark.parametrize("page_size", ["abc", "0", "-1"])
def test_a_bad_registrations_page_size_is_400(auth_client, page_size):
    response = auth_client.get(f"/api/registrations/?page_size={page_size}")

    assert response.status_code == 400


def test_registrations_are_paged_newest_first_without_gaps(auth_client):
    for i in range(7):
        register(auth_client, make_event(), {"full_name": f"P{i}", "email": f"p{i}@example.com"})

    seen, url = [], "/api/registrations/?page_size=3"
    while url:
        page = auth_client.get(url).json()
        seen.extend(item["full_name"] for item in page["results"])
        url = page["next"]

    assert seen == [f"P{i}" for i in reversed(range(7))]


def test_a_code_drawn_that_the_event_already_holds_is_drawn_again(auth_client, monkeypatch):
    """The code's check shares a statement with the address rate's; a taken code is still never given twice."""
    event = make_event()
    first = registration_create(event_id=event.id, user=make_user(), full_name="A", email="a@example.com")[0]
    draws = iter([int(first.confirmation_code), 424242])
    monkeypatch.setattr("events_face.events.lifecycle.secrets.randbelow", lambda _bound: next(draws))

    assert register(auth_client, event).status_code == 201

    assert sorted(
        Registration.objects.filter(event=event).values_list("confirmation_code", flat=True)
    ) == sorted([first.confirmation_code, "424242"])


@pytest.mark.parametrize("idempotency_key", [None, "key-1"])
def test_the_unique_constraint_refuses_a_second_active_registration_that_passed_the_check(
    user, monkeypatch, idempotency_key
):
    """The backstop: should a second INSERT ever pass the check under the lock, the database's
    constraint refuses it, as `already_registered`, and nothing of it is kept. The check is
    made to miss here (the lock keeps real requests from racing past it)."""
    from events_face.events import services
    from events_face.events.errors import AlreadyRegistered
    from events_face.events.selectors import registration_state_of

    event = make_event()
    registration_create(event_id=event.id, user=user, **ADA)

    def blind(row):
        return dataclasses.replace(registration_state_of(row), address_registered=False)

    monkeypatch.setattr(services, "registration_state_of", blind)
    with pytest.raises(AlreadyRegistered):
        registration_create(
            event_id=event.id,
            user=make_user(),
            idempotency_key=idempotency_key,
            **{**ADA, "email": "ADA@example.com"},
        )

    assert Registration.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_a_confirmed_registration_sends_two_statements_under_the_lock_on_postgresql(user):
    """The round trips a registration waits for while it holds the event's lock, one by one:
    on PostgreSQL, the locks with what they guard read (`event_locked_reading`), then the
    registration's INSERT with its outbox message's. SQLite has no round trips: there each
    is its own statement."""
    event = make_event(capacity=10)
    with CaptureQueriesContext(connection) as queries:
        registration_create(event_id=event.id, user=user, **ADA)

    sent = [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "PRAGMA"))
    ]
    if connection.vendor == "postgresql":
        [locks_and_state, inserts] = sent
        assert "FOR UPDATE" in locks_and_state and "pg_advisory_xact_lock" in locks_and_state
        assert "events_seatcount" in locks_and_state
        assert "events_registration" in inserts and "outbox_outboxmessage" in inserts
    else:
        assert len(sent) == 4, sent


def test_a_waitlist_join_sends_three_statements_under_the_lock_on_postgresql(user):
    """The locks with the state; the INSERT with the count of the new entry's place; the
    notification, which says that place, with its outbox INSERT."""
    event = make_event(capacity=1)
    registration_create(event_id=event.id, user=user, full_name="Seated", email="seated@example.com")
    registration_create(
        event_id=event.id, user=user, full_name="First", email="first@example.com", waitlist=True
    )

    with CaptureQueriesContext(connection) as queries:
        registration, created = registration_create(event_id=event.id, user=user, waitlist=True, **ADA)

    assert created and (registration.status, registration.waitlist_position) == ("waitlisted", 2)
    sent = [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "PRAGMA"))
    ]
    if connection.vendor == "postgresql":
        [locks_and_state, insert_and_place, notification] = sent
        assert "FOR UPDATE" in locks_and_state
        assert (
            insert_and_place.startswith('INSERT INTO "events_registration"')
            and "COUNT(*)" in insert_and_place
        )
        assert "outbox_outboxmessage" in notification
    else:
        assert len(sent) == 5, sent
    message = OutboxMessage.objects.filter(topic="registration.waitlisted").order_by("created_at").last()
    assert "number 2." in message.payload["message"]
