"""Each list page is an index read that stops after the page, at any table size.

No timing: the work is counted. On SQLite, the virtual machine's instructions
(a progress handler called every 100); on PostgreSQL, the rows the plan's scans
read (EXPLAIN ANALYZE). Each filter is measured on a table of a few hundred
events, then again after twenty times as many more are added among them: the
page must cost about the same. Sorting or filtering the whole table would
multiply it by twenty.

Neither database has statistics here, as after `bulk_create` or a sync: the
rows are inserted inside the test's transaction, where nothing analyses them.
"""

import random
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events_face.core.pagination import Cursor
from events_face.events.models import Event, Venue
from events_face.events.selectors import event_page
from events_face.events.statistics import catalogue_statistics_refresh
from tests.support.polling import wait_until
from tests.support.rows_read import postgresql_rows_read, sqlite_steps
from tests.support.sync import sync_process

pytestmark = pytest.mark.django_db

PAGE = 10
STATUSES = [s.value for s in Event.Status]


def add_events(count: int, venues: list[Venue], rng: random.Random) -> None:
    now = timezone.now()
    Event.objects.bulk_create(
        Event(
            id=uuid.UUID(int=rng.getrandbits(128)),
            name=f"Event {rng.getrandbits(32)}",
            event_time=now + timedelta(hours=1, minutes=rng.randrange(60 * 24 * 365)),
            registration_deadline=None if rng.random() < 0.5 else now + timedelta(minutes=30),
            status=rng.choice(STATUSES),
            venue=rng.choice(venues),
            provider_changed_at=now,
        )
        for _ in range(count)
    )


def work(filters: dict, *, cursor_at: float | None = None, backwards: bool = False) -> int:
    """How much work the database does for one page of the list with these filters."""
    cursor = None
    if cursor_at is not None:
        rows = event_page(filters=filters, size=100_000)
        row = rows[int(len(rows) * cursor_at)]
        cursor = Cursor(row["event_time"], row["id"], backwards)
    measure = sqlite_steps if connection.vendor == "sqlite" else _postgresql_rows_read
    return measure(lambda: event_page(filters=filters, cursor=cursor, size=PAGE))


def _postgresql_rows_read(read) -> int:
    """Index entries and table rows of events_event the statement read."""
    return postgresql_rows_read(read, tables=("events_event",))


CASES = {
    "default": ({}, None, False),
    "default, 70% deep": ({}, 0.7, False),
    "default, backwards from 70%": ({}, 0.7, True),
    "one status": ({"status": ["cancelled"]}, None, False),
    "two statuses, 70% deep": ({"status": ["new", "finished"]}, 0.7, False),
    "all": ({"status": ["all"]}, None, False),
    "all, 70% deep": ({"status": ["all"]}, 0.7, False),
    "newest first": ({"ordering": "-event_time"}, None, False),
    "newest first, 70% deep": ({"ordering": "-event_time"}, 0.7, False),
    "date range": ({"date_from": (timezone.now() + timedelta(days=30)).date()}, None, False),
}


@pytest.mark.parametrize("case", CASES)
def test_a_page_costs_the_same_in_a_table_twenty_times_larger(case):
    rng = random.Random(case)
    venues = Venue.objects.bulk_create([Venue(id=uuid.uuid4(), name=f"Hall {i}") for i in range(4)])
    filters, cursor_at, backwards = CASES[case]
    add_events(400, venues, rng)
    small = work(filters, cursor_at=cursor_at, backwards=backwards)

    add_events(8000, venues, rng)
    large = work(filters, cursor_at=cursor_at, backwards=backwards)

    assert large <= 1.5 * small + 20, f"{case}: {small} at 400 events, {large} at 8,400"


@pytest.mark.parametrize("with_status", [False, True])
def test_a_venue_page_costs_the_same_in_a_table_twenty_times_larger(with_status):
    rng = random.Random(7)
    venues = Venue.objects.bulk_create([Venue(id=uuid.uuid4(), name=f"Hall {i}") for i in range(4)])
    filters = {"venue": venues[0].id, **({"status": ["all"]} if with_status else {})}
    add_events(400, venues, rng)
    small = work(filters)

    add_events(8000, venues, rng)
    large = work(filters)

    assert large <= 1.5 * small + 20, f"{small} at 400 events, {large} at 8,400"


def test_the_default_page_returns_exactly_the_events_open_for_registration():
    """The list's SQL and `EventQuerySet.open_for_registration` are one rule, edges included."""
    now = timezone.now()
    rng = random.Random(3)
    venues = Venue.objects.bulk_create([Venue(id=uuid.uuid4(), name="Hall")])
    add_events(300, venues, rng)
    edge = dict(provider_changed_at=now, venue=None)
    Event.objects.bulk_create(
        [
            Event(id=uuid.uuid4(), name="starts now", event_time=now, status="published", **edge),
            Event(
                id=uuid.uuid4(),
                name="deadline now",
                event_time=now + timedelta(days=1),
                registration_deadline=now,
                status="new",
                **edge,
            ),
            Event(
                id=uuid.uuid4(),
                name="deadline after start",
                event_time=now + timedelta(seconds=1),
                registration_deadline=now + timedelta(days=1),
                status="new",
                **edge,
            ),
            Event(
                id=uuid.uuid4(),
                name="open, no deadline",
                event_time=now + timedelta(microseconds=1),
                status="published",
                **edge,
            ),
        ]
    )

    listed = [row["id"] for row in event_page(size=100_000, now=now)]
    expected = list(
        Event.objects.open_for_registration(now=now).order_by("event_time", "id").values_list("id", flat=True)
    )

    assert listed == expected
    assert all(event.is_open(now=now) for event in Event.objects.filter(id__in=listed))
    assert not any(event.is_open(now=now) for event in Event.objects.exclude(id__in=listed))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_the_name_search_reads_the_trigram_index_on_postgresql():
    rng = random.Random(5)
    venues = Venue.objects.bulk_create([Venue(id=uuid.uuid4(), name="Hall")])
    add_events(8000, venues, rng)
    Event.objects.filter(pk__in=Event.objects.values("pk")[:3]).update(name="Quantum Harpsichord Night")
    catalogue_statistics_refresh()  # as the sync does after a run that changed events

    with CaptureQueriesContext(connection) as queries:
        rows = event_page(filters={"name": "harpsichord", "status": ["all"]}, size=PAGE)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert {row["name"] for row in rows} == {"Quantum Harpsichord Night"}
    assert "event_name_trgm_idx" in plan, plan
    assert _postgresql_rows_read(lambda: event_page(filters={"name": "harpsichord"}, size=PAGE)) < 100


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's plans need no statistics")
@pytest.mark.django_db(transaction=True)
def test_a_sync_that_changed_events_gathers_the_planner_statistics(provider):
    def times_analysed() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_clear_snapshot(), pg_stat_get_analyze_count('events_event'::regclass)"
            )
            return cursor.fetchone()[1]

    before = times_analysed()
    sync = sync_process(provider, "--all")
    assert sync.wait(timeout=60) == 0, sync.communicate()

    wait_until(lambda: times_analysed() > before, timeout=10, message="the sync did not ANALYZE events_event")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'events_event'::regclass")
        assert cursor.fetchone()[0] == Event.objects.count() > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner settings are PostgreSQL's")
def test_the_planner_settings_go_with_the_page_statement_and_last_for_it_alone():
    """One round trip; inside a caller's transaction (this test's) the settings are back afterwards."""
    with CaptureQueriesContext(connection) as queries:
        event_page(size=PAGE)

    [statement] = queries.captured_queries
    assert statement["sql"].startswith(
        "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off; SELECT"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_sort'), current_setting('enable_bitmapscan')")
        assert cursor.fetchone() == ("on", "on")
