"""The counts the database keeps (`SeatCount`, migration 0016's triggers) are always the
event's confirmed and waitlisted registrations counted, whoever writes and however: the services, the
ORM's create, save, bulk_create, queryset update and delete, raw DELETEs as the cleanup
runs them, and the migration's first count of rows that were there before."""

import itertools
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events_face.events.lifecycle import confirmation_code_generate
from events_face.events.models import Registration, SeatCount
from events_face.events.selectors import (
    confirmed_count,
    registration_state_of,
    registration_state_statement,
    registration_with_seats_statement,
    waitlist_position_read,
)
from tests.support.factories import make_event, make_user
from tests.support.migrations import migrated_to
from tests.support.rows_read import database_work, postgresql_rows_read

STATUSES = [status.value for status in Registration.Status]
HELD = ("confirmed", "waitlisted")  # the statuses counted
TRIGGERS = {
    "events_registration_seats_insert",
    "events_registration_seats_update",
    "events_registration_seats_delete",
}


def trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'events_registration'::regclass")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events_registration'"
            )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db
def test_the_triggers_are_there_after_every_migration():
    # A later migration that rebuilds the table on SQLite drops them: it must make them again.
    assert trigger_names() >= TRIGGERS


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE statement")
@pytest.mark.django_db(transaction=True)  # the rows committed: TRUNCATE refuses deferred checks pending
def test_a_truncate_of_the_registrations_empties_the_counts():
    event = make_event(capacity=None)
    Registration.objects.bulk_create([registration(event, status) for status in STATUSES])
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_registration")
    assert not SeatCount.objects.exists()
    assert_counts_true([event])


def assert_counts_true(events) -> None:
    for event in events:
        counted = [Registration.objects.filter(event=event, status=status).count() for status in HELD]
        kept = SeatCount.objects.filter(event=event).values_list(*HELD).first() or (0, 0)
        assert list(kept) == counted, event
        assert confirmed_count(event=event) == counted[0]
    # A place in the queue read from the count is the place the rows give.
    for row in Registration.objects.filter(event__in=events, status="waitlisted").with_waitlist_position():
        assert waitlist_position_read(registration=row) == row.waitlist_position, row
    # Counts that reach 0 leave no row behind.
    assert not SeatCount.objects.filter(confirmed=0, waitlisted=0).exists()


codes = itertools.count()


def registration(event, status: str) -> Registration:
    return Registration(
        event=event,
        full_name="Ada",
        email=f"{uuid.uuid4().hex[:12]}@example.com",
        status=status,
        confirmation_code="" if status == "waitlisted" else f"{next(codes):06d}",
    )


# (operation, a status, a number that picks a registration or a count)
steps = st.lists(
    st.tuples(
        st.sampled_from(["create", "bulk_create", "save", "update", "move", "delete", "delete_event_rows"]),
        st.sampled_from(STATUSES),
        st.integers(0, 40),
    ),
    min_size=5,
    max_size=30,
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=steps)
def test_every_kind_of_write_keeps_the_count(steps):
    events = [make_event(capacity=None), make_event(capacity=5)]
    for operation, status, number in steps:
        rows = list(Registration.objects.filter(event__in=events).order_by("id"))
        picked = rows[number % len(rows)] if rows else None
        event = events[number % 2]
        if operation == "create":
            registration(event, status).save()
        elif operation == "bulk_create":
            Registration.objects.bulk_create(
                [registration(event, STATUSES[(number + i) % 3]) for i in range(number % 5 + 1)]
            )
        elif operation == "save" and picked:
            picked.status = status
            picked.save(update_fields=["status"])
        elif operation == "update":
            # Many rows at once, some of them changing nothing.
            Registration.objects.filter(event=event, email__lt=f"{number:x}").update(status=status)
        elif operation == "move" and picked:
            other = events[1] if picked.event_id == events[0].id else events[0]
            Registration.objects.filter(pk=picked.pk).update(event=other)
        elif operation == "delete" and picked:
            picked.delete()
        elif operation == "delete_event_rows":
            # As the cleanup deletes: set-based, no model instances, no signals.
            Registration.objects.filter(event=event)._raw_delete(connection.alias)
        assert_counts_true(events)


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_rows_already_there():
    events = [make_event(capacity=10), make_event(capacity=10), make_event()]
    with migrated_to(("events", "0015_check_in_verbose_names")) as old_apps:
        old = old_apps.get_model("events", "Registration")
        for event, statuses in zip(
            events, [["confirmed"] * 3 + ["waitlisted", "cancelled"], ["cancelled"], []], strict=True
        ):
            for status in statuses:
                old.objects.create(
                    event_id=event.id,
                    full_name="Ada",
                    email=f"{uuid.uuid4().hex[:12]}@example.com",
                    status=status,
                    confirmation_code="" if status == "waitlisted" else uuid.uuid4().hex[:6],
                )
    assert [confirmed_count(event=event) for event in events] == [3, 0, 0]
    assert SeatCount.objects.count() == 1 and SeatCount.objects.get().waitlisted == 1
    assert_counts_true(events)


def registration_rows_read(read) -> int:
    """Rows and index entries of events_registration and events_seatcount that `read` read."""
    return postgresql_rows_read(read, tables=("events_registration", "events_seatcount"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's row counters")
@pytest.mark.django_db
def test_what_a_registration_reads_under_the_lock_does_not_grow_with_the_event():
    """No planner statistics (as after bulk_create): neither the seats nor "anyone waiting"
    walks the event's confirmed registrations."""
    event = make_event(capacity=None)
    Registration.objects.bulk_create([registration(event, "confirmed") for _ in range(3000)])
    user = make_user()
    state = {}

    def read():
        statement = registration_state_statement(
            event_id=event.id,
            user_id=user.pk,
            email="new@example.com",
            since=timezone.now(),
            limit=5,
            code="000000",
        )
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            state["read"] = registration_state_of(cursor.fetchone())

    assert registration_rows_read(read) < 100  # 20 here; 3,021 when "anyone waiting" took the unique index
    assert (state["read"].confirmed, state["read"].waiting, state["read"].user_active) == (3000, 0, True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's row counters")
@pytest.mark.django_db
def test_the_place_of_the_one_who_just_joined_does_not_grow_with_the_queue():
    event = make_event(capacity=0)
    Registration.objects.bulk_create([registration(event, "waitlisted") for _ in range(3000)])
    newest = Registration.objects.filter(event=event).order_by("-created_at", "-id").first()
    place = {}

    def read():
        place["newest"] = waitlist_position_read(registration=newest)

    assert registration_rows_read(read) < 100  # 3,000 and more when the entries ahead were counted
    assert place["newest"] == 3000


def _event_of_size(size: int):
    """An event with `size` confirmed and `size` waitlisted registrations (bulk_create, no statistics)."""
    event = make_event(capacity=size)
    Registration.objects.bulk_create(
        [registration(event, "confirmed") for _ in range(size)]
        + [registration(event, "waitlisted") for _ in range(size)]
    )
    return event


def _first_waiting(event):
    return list(Registration.objects.waiting_order().filter(event=event)[:1])


def _state(event):
    statement = registration_state_statement(
        event_id=event.id,
        user_id=1,  # a primary-key probe, whoever it finds
        email="new@example.com",
        since=timezone.now(),
        limit=5,
        code="999999",
    )
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return cursor.fetchone()


def _newest_place(event):
    newest = Registration.objects.filter(event=event, status="waitlisted").order_by("-created_at", "-id")[0]
    return lambda: waitlist_position_read(registration=newest)


def _registration_with_seats(event):
    some = Registration.objects.filter(event=event).values_list("pk", flat=True)[0]
    statement = registration_with_seats_statement(registration_id=some, code="000000")

    def read():
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            return cursor.fetchone()

    return read


# What registering, joining the waiting list and cancelling read under the event's lock.
READS = {
    "registration state": lambda event: lambda: _state(event),
    "the newest's place in the queue": _newest_place,
    "a cancellation's registration, counts, first waiting and code check": _registration_with_seats,
    "the first in the queue (promotion)": lambda event: lambda: _first_waiting(event),
    "a drawn code's check (promotion)": lambda event: lambda: confirmation_code_generate(event=event),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", READS)
def test_what_the_writes_read_under_the_lock_does_not_grow_with_the_event(name):
    """Counted (SQLite's VM steps in hundreds, PostgreSQL's rows read), at 200 and 2,000 of each
    status: 3,600 registrations more may cost a little more, not one step or row each. (On
    PostgreSQL the counter row's versions, 4,000 of them from this one transaction's inserts,
    add about 25 rows; reading the registrations would add thousands, and on SQLite a
    code check that missed the partial index added 180 hundreds.)"""
    work = []
    for size in (200, 2000):
        read = READS[name](_event_of_size(size))
        work.append(database_work(read, tables=("events_registration", "events_seatcount")))
    small, large = work
    assert large - small < 100, work
