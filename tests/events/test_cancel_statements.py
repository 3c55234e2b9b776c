"""A cancellation finds its event, reads what it needs and promotes in as few statements as it
can: the lock's own statement finds the event by the registration; the registration, its event's
counts, the first on the waiting list and the check of a code drawn for them are read in the
lock's round trip (PostgreSQL). Then the cancellation's UPDATE with its notification, and the
promotion's with its own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events_face.events import lifecycle
from events_face.events.cancel_links import cancel_link
from events_face.events.lifecycle import registration_cancel, registration_cancel_by_link
from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event, make_registration, make_user

pytestmark = pytest.mark.django_db


def full_event_with_a_queue(waiting: int = 2):
    event = make_event(capacity=1)
    seated = make_registration(event_id=event.id)
    queue = [make_registration(event_id=event.id, waitlist=True) for _ in range(waiting)]
    return event, seated, queue


def token_of(registration) -> str:
    return cancel_link(registration_id=registration.pk).rstrip("/").rsplit("/", 1)[-1]


def statements(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "PRAGMA"))
    ]


def test_a_cancellation_that_promotes_sends_three_statements_on_postgresql():
    event, seated, [first, second] = full_event_with_a_queue()

    with CaptureQueriesContext(connection) as queries:
        registration, changed = registration_cancel_by_link(token=token_of(seated))

    assert changed and registration.status == "cancelled"
    sent = statements(queries)
    if connection.vendor == "postgresql":
        [lock_and_reading, cancellation, promotion] = sent
        assert "FOR UPDATE" in lock_and_reading and "events_seatcount" in lock_and_reading
        assert "UPDATE" in cancellation and "outbox_outboxmessage" in cancellation
        assert "UPDATE" in promotion and "outbox_outboxmessage" in promotion
    else:  # the same statements, each on its own: the lock, the reading, two UPDATEs and two INSERTs
        assert len(sent) == 6, sent
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("confirmed", "waitlisted")
    codes = list(
        Registration.objects.filter(event=event)
        .exclude(confirmation_code="")
        .values_list("confirmation_code", flat=True)
    )
    assert len(set(codes)) == len(codes) == 2  # the seated one's (kept, cancelled) and the promoted one's
    assert OutboxMessage.objects.filter(topic="registration.promoted").count() == 1


def test_a_drawn_code_the_event_holds_already_is_drawn_again(monkeypatch):
    event, seated, [first] = full_event_with_a_queue(waiting=1)
    drawn = iter([seated.confirmation_code, "424242"])  # the first is the cancelled one's
    monkeypatch.setattr(lifecycle, "confirmation_code_candidate", lambda: next(drawn))

    registration_cancel_by_link(token=token_of(seated))

    first.refresh_from_db()
    assert (first.status, first.confirmation_code) == ("confirmed", "424242")


def test_with_two_seats_free_both_first_waiting_are_promoted_in_order():
    event, seated, queue = full_event_with_a_queue(waiting=3)
    # Capacity raised while nobody promoted (a sync, or the admin writing the row itself).
    type(event).objects.filter(pk=event.pk).update(capacity=2)

    registration_cancel_by_link(token=token_of(seated))

    statuses = [Registration.objects.get(pk=r.pk).status for r in queue]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]


def test_the_owner_check_is_under_the_lock_and_a_stranger_changes_nothing():
    event, seated, [first, second] = full_event_with_a_queue()

    with pytest.raises(lifecycle.RegistrationNotFound):
        registration_cancel(registration_id=seated.pk, user=make_user())
    with pytest.raises(lifecycle.RegistrationNotFound):
        registration_cancel(registration_id="00000000-0000-0000-0000-000000000000", user=seated.user)

    assert Registration.objects.get(pk=seated.pk).status == "confirmed"
    assert Registration.objects.get(pk=first.pk).status == "waitlisted"
    registration, changed = registration_cancel(registration_id=seated.pk, user=seated.user)
    assert changed and Registration.objects.get(pk=first.pk).status == "confirmed"
