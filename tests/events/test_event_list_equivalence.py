"""The event list's SQL gives exactly the ORM's rows, in the ORM's order, for every filter.

`selectors.event_page` is hand-written SQL, for speed; the ORM queryset here is
its specification, one lookup per filter: `EventQuerySet.registration_not_closed`
and `upcoming` for the two defaults, `status__in`, whole UTC days of
`event_time__date`, `venue`, `name__icontains`, the venue's name through a join
(the SQL reads it with a scalar subquery), and `core.pagination.keyset_beyond`
for a cursor. Hypothesis draws small catalogues (times tied, on midnight and on
"now", deadlines before, at or after now or none, every status, names with LIKE's
special characters % _ \\ and non-ASCII letters) and filters, then pages through
the list forwards and back with the API's paginator, comparing every fetch.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events_face.core.pagination import Cursor, keyset_beyond
from events_face.events.models import Event, Registration, Venue
from events_face.events.pagination import EventKeysetPagination
from events_face.events.selectors import ALL_STATUSES, EVENT_COLUMNS, event_page
from events_face.events.serializers import EventListFilterSerializer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 30, 15, 250000, tzinfo=UTC)
TODAY = NOW.date()
MIDNIGHT_TONIGHT = datetime.combine(TODAY + timedelta(days=1), time.min, tzinfo=UTC)
# Moments many events share, and the edges of the filters: now, midnight.
TIES = [
    NOW + timedelta(hours=2),
    NOW,
    NOW - timedelta(microseconds=1),
    NOW + timedelta(microseconds=1),
    MIDNIGHT_TONIGHT,
    MIDNIGHT_TONIGHT - timedelta(microseconds=1),
    NOW - timedelta(days=1),
]
# LIKE's wildcards and escape, cased and caseless non-ASCII letters, a space.
NAME_CHARACTERS = "aA%_\\ éÉßЖ"

# Hypothesis starts from the simplest values (the first branch, 0): an upcoming moment.
moments = st.one_of(
    st.integers(min_value=1, max_value=3 * 24 * 60).map(lambda minutes: NOW + timedelta(minutes=minutes)),
    st.sampled_from(TIES),
    st.integers(min_value=1, max_value=2 * 24 * 60).map(lambda minutes: NOW - timedelta(minutes=minutes)),
)
# No deadline, one at now itself (registration closes at the deadline), or any moment.
deadlines = st.one_of(st.none(), st.sampled_from([NOW, NOW + timedelta(microseconds=1)]), moments)
names = st.text(alphabet=NAME_CHARACTERS, min_size=1, max_size=6)
# Every status, the open ones (those of the default list) more often.
statuses = st.sampled_from([*Event.OPEN_STATUSES, *Event.Status.values])


@st.composite
def catalogues(draw) -> tuple[list[Venue], list[Event], list[Registration]]:
    venue_ids = draw(st.lists(st.uuids(), max_size=3, unique=True))
    venues = [Venue(id=venue_id, name=draw(names)) for venue_id in venue_ids]
    event_ids = draw(st.lists(st.uuids(), min_size=4, max_size=24, unique=True))
    events = [
        Event(
            id=event_id,
            name=draw(names),
            event_time=draw(moments),
            registration_deadline=draw(deadlines),
            status=draw(statuses),
            venue=draw(st.one_of(st.none(), st.sampled_from(venues))) if venues else None,
            capacity=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=3))),
            provider_changed_at=NOW,
        )
        for event_id in event_ids
    ]
    # Registrations of any status: the list counts the confirmed ones of events with a capacity.
    registrations = [
        Registration(
            event=event,
            full_name="A. Guest",
            email=f"guest{index}@example.com",
            status=status,
            confirmation_code="" if status == Registration.Status.WAITLISTED else f"CODE{index}",
        )
        for event in events
        for index, status in enumerate(
            draw(st.lists(st.sampled_from(Registration.Status.values), max_size=3))
        )
    ]
    return venues, events, registrations


def sometimes(draw) -> bool:
    """True one time in three: each filter is drawn often alone, so that pages are seldom empty."""
    return draw(st.integers(min_value=0, max_value=2)) == 2


@st.composite
def list_queries(draw, venues: list[Venue], events: list[Event]) -> QueryDict:
    """A query string of the list's filters, as a client may send it (validated as the API does).

    A venue or name filter is mostly one the catalogue matches: a venue of it,
    part of one of its names.
    """
    query = QueryDict(mutable=True)
    if sometimes(draw):
        statuses = draw(
            st.lists(st.sampled_from([*Event.Status.values, ALL_STATUSES]), min_size=1, max_size=3)
        )
        query["status"] = ",".join(statuses)
    days = st.integers(min_value=-3, max_value=3).map(lambda offset: TODAY + timedelta(days=offset))
    date_from = draw(days) if sometimes(draw) else None
    date_to = draw(days) if sometimes(draw) else None
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    if date_from:
        query["date_from"] = date_from.isoformat()
    if date_to:
        query["date_to"] = date_to.isoformat()
    if sometimes(draw):
        known = [st.sampled_from([venue.id for venue in venues])] if venues else []
        query["venue"] = str(draw(st.one_of(*known, st.uuids())))
    if sometimes(draw):
        if events and draw(st.booleans()):
            whole = draw(st.sampled_from([event.name for event in events]))
            start = draw(st.integers(min_value=0, max_value=len(whole) - 1))
            name = whole[start : draw(st.integers(min_value=start + 1, max_value=len(whole)))]
            name = draw(st.sampled_from([name, name.upper(), name.lower()]))
        else:
            name = draw(st.text(alphabet=NAME_CHARACTERS, min_size=1, max_size=3))
        if name.strip():
            query["name"] = name
    ordering = draw(st.sampled_from([None, "event_time", "-event_time"]))
    if ordering:
        query["ordering"] = ordering
    return query


def reference_list(filters: dict, *, now: datetime):
    """The list as the ORM states it, ordered."""
    events = Event.objects.all()
    statuses = filters.get("status")
    if not statuses:
        events = events.registration_not_closed(now=now)
    elif ALL_STATUSES not in statuses:
        events = events.filter(status__in=statuses)
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if date_from is None and date_to is None:
        events = events.upcoming(now=now)
    if date_from is not None:
        events = events.filter(event_time__date__gte=date_from)
    if date_to is not None:
        events = events.filter(event_time__date__lte=date_to)
    if filters.get("venue"):
        events = events.filter(venue_id=filters["venue"])
    if filters.get("name"):
        events = events.filter(name__icontains=filters["name"])
    descending = filters.get("ordering") == "-event_time"
    return events.order_by(*(["-event_time", "-id"] if descending else ["event_time", "id"]))


def as_rows(events) -> list[dict]:
    confirmed = (
        Registration.objects.filter(event=OuterRef("pk"), status=Registration.Status.CONFIRMED)
        .order_by()
        .values("event")
        .annotate(count=Count("*"))
        .values("count")
    )
    seats_taken = Case(
        When(capacity__isnull=True, then=Value(None)),
        default=Coalesce(Subquery(confirmed), 0),
        output_field=IntegerField(),
    )
    return list(events.annotate(venue_name=F("venue__name"), seats_taken=seats_taken).values(*EVENT_COLUMNS))


def reference_fetch(filters: dict, *, cursor: Cursor | None, size: int, now: datetime) -> list[dict]:
    """What `event_page` must fetch: `size + 1` rows past the cursor, in fetch order."""
    events = reference_list(filters, now=now)
    if cursor is not None:
        descending = filters.get("ordering") == "-event_time"
        events = keyset_beyond(
            events, time_field="event_time", cursor=cursor, after=descending == cursor.backwards
        )
        if cursor.backwards:
            events = events.reverse()
    return as_rows(events[: size + 1])


def fetch_and_compare(filters: dict, cursor: Cursor | None, size: int) -> EventKeysetPagination:
    """One page through the list's SQL, held to the ORM; the paginator holding it, as the API uses it."""
    fetched = event_page(filters=filters, cursor=cursor, size=size, now=NOW)
    assert fetched == reference_fetch(filters, cursor=cursor, size=size, now=NOW), (filters, cursor, size)
    paginator = EventKeysetPagination()
    paginator.cursor = cursor
    paginator.page_from(fetched, size)
    return paginator


def cursor_from(row: dict, *, backwards: bool) -> Cursor:
    return Cursor(row["event_time"], row["id"], backwards)


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), catalogue=catalogues(), size=st.integers(min_value=1, max_value=4))
def test_every_page_of_every_filter_is_what_the_orm_gives(data, catalogue, size):
    venues, events, registrations = catalogue
    query = data.draw(list_queries(venues, events), label="query")
    filter_input = EventListFilterSerializer(data=query)
    assert filter_input.is_valid(), filter_input.errors
    filters = filter_input.validated_data

    with transaction.atomic():  # each example's catalogue is rolled back
        Venue.objects.bulk_create(venues)
        Event.objects.bulk_create(events)
        Registration.objects.bulk_create(registrations)
        expected = as_rows(reference_list(filters, now=NOW))

        # Forwards from the start, following each page's last row, as `next` links do.
        listed, cursor = [], None
        while True:
            paginator = fetch_and_compare(filters, cursor, size)
            listed.extend(paginator.rows)
            if not paginator.has_next:
                break
            cursor = cursor_from(paginator.rows[-1], backwards=False)
        assert listed == expected

        # Backwards from the last page, following each page's first row, as `previous` links do.
        walked_back = list(paginator.rows)
        while paginator.has_previous:
            paginator = fetch_and_compare(filters, cursor_from(paginator.rows[0], backwards=True), size)
            walked_back[:0] = paginator.rows
        assert walked_back == expected

        transaction.set_rollback(True)


def test_a_date_filter_holds_whole_utc_days_at_their_edges():
    """The reference's `event_time__date` and the SQL's half-open bounds agree on midnight itself."""
    day = date(2026, 6, 16)
    edge = datetime.combine(day, time.min, tzinfo=UTC)
    for offset in (
        timedelta(microseconds=-1),
        timedelta(0),
        timedelta(days=1, microseconds=-1),
        timedelta(days=1),
    ):
        Event.objects.create(
            id=uuid.uuid4(),
            name=str(offset),
            event_time=edge + offset,
            status="published",
            provider_changed_at=NOW,
        )
    filters = {"date_from": day, "date_to": day, "status": [ALL_STATUSES]}

    rows = event_page(filters=filters, size=10, now=NOW)

    assert [row["event_time"] for row in rows] == [edge, edge + timedelta(days=1, microseconds=-1)]
    assert rows == as_rows(reference_list(filters, now=NOW))
