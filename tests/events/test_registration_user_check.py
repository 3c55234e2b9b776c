"""A registration and an owner's cancellation read the user's row in the lock's statement, not
in the authentication: a round trip less, and a user that is gone or deactivated is still
refused at once, with the answer every other endpoint gives (SimpleJWT's `user_inactive` /
`user_not_found`)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events_face.events.models import Registration, SeatCount
from events_face.outbox.models import OutboxMessage
from tests.support.factories import client_of, make_event, make_registration, make_user

pytestmark = pytest.mark.django_db

ADA = {"full_name": "Ada Lovelace", "email": "ada@gmail.com"}
USERS_TABLE = get_user_model()._meta.db_table
# What happened to the user after signing in, and the refusal's code.
USER_GONE = pytest.mark.parametrize(
    ("change", "code"), [("deactivate", "user_inactive"), ("delete", "user_not_found")]
)


def register(client, event, **extra):
    return client.post(f"/api/events/{event.id}/register/", ADA, format="json", **extra)


def test_the_users_row_is_read_only_in_the_statement_under_the_lock(auth_client):
    event = make_event(capacity=10)

    with CaptureQueriesContext(connection) as queries:
        response = register(auth_client, event)

    assert response.status_code == 201
    reading_users = [query["sql"] for query in queries.captured_queries if USERS_TABLE in query["sql"]]
    assert len(reading_users) == 1, reading_users
    [statement] = reading_users
    assert "events_seatcount" in statement  # the registration's state, read under the locks
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in statement  # the same round trip as the locks


@USER_GONE
def test_a_user_deactivated_or_deleted_after_signing_in_is_refused_and_nothing_is_stored(user, change, code):
    event = make_event(capacity=10)
    client = client_of(user)
    assert register(client, event, HTTP_IDEMPOTENCY_KEY="first").status_code == 201
    if change == "deactivate":
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    else:
        Registration.objects.all().delete()
        user.delete()
    stored = (Registration.objects.count(), OutboxMessage.objects.count(), SeatCount.objects.count())

    for key in ("first", "second"):  # a replay of the first answer is refused too
        response = client.post(
            f"/api/events/{event.id}/register/",
            {**ADA, "email": f"{key}@gmail.com"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == code
        assert response["WWW-Authenticate"].startswith("Bearer")

    assert (Registration.objects.count(), OutboxMessage.objects.count(), SeatCount.objects.count()) == stored


def test_the_refusal_speaks_the_callers_language(user):
    event = make_event()
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)

    response = register(client_of(user), event, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Пользователь неактивен"


def test_a_deleted_users_refusal_speaks_russian_too(user):
    event = make_event()
    client = client_of(user)
    user.delete()

    response = register(client, event, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.json()["error"]["message"] == "Пользователь не найден"


def cancel(client, registration):
    return client.post(f"/api/registrations/{registration.pk}/cancel/", format="json")


def test_an_owners_cancellation_reads_the_users_row_only_under_the_lock(auth_client):
    event = make_event(capacity=1)
    registration = Registration.objects.get(pk=register(auth_client, event).json()["id"])

    with CaptureQueriesContext(connection) as queries:
        response = cancel(auth_client, registration)

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    reading_users = [query["sql"] for query in queries.captured_queries if USERS_TABLE in query["sql"]]
    assert len(reading_users) == 1, reading_users
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in reading_users[0]


@USER_GONE
def test_a_deactivated_or_deleted_owner_cannot_cancel_and_nothing_changes(user, change, code):
    event = make_event(capacity=1)
    client = client_of(user)
    seated = Registration.objects.get(pk=register(client, event).json()["id"])
    waiting = make_registration(event_id=event.id, waitlist=True)
    if change == "deactivate":
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    else:
        # A deleted user's registrations go with it: keep this one under another account.
        Registration.objects.filter(pk=seated.pk).update(user=make_user())
        user.delete()
    messages = OutboxMessage.objects.count()

    response = cancel(client, seated)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert Registration.objects.get(pk=seated.pk).status == "confirmed"
    assert Registration.objects.get(pk=waiting.pk).status == "waitlisted"
    assert OutboxMessage.objects.count() == messages
