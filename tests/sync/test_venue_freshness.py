"""A venue takes its fields only from a record newer than the one that last set them.

A provider record carries its event's `changed_at`, and the place it names as it
was then. An old copy of an unchanged event (a page served again, a replica
lagging) used to rename its venue, and an older record without `city` emptied
another venue's extra fields. Pages are applied to the real test database.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from events_face.events.models import Event, Venue
from events_face.sync.models import SyncRun
from tests.support.sync import page_apply

pytestmark = pytest.mark.django_db

VENUE_ID = str(uuid.UUID(int=7001))
T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def record(event: int, *, changed_at: datetime, place: dict | None) -> dict:
    return {
        "id": str(uuid.UUID(int=event)),
        "name": f"Event {event}",
        "place": place,
        "event_time": "2030-12-01T19:00:00+03:00",
        "registration_deadline": None,
        "status": "published",
        "changed_at": changed_at.isoformat(),
    }


def apply(*records: dict) -> None:
    page_apply(*records, mode=SyncRun.Mode.INCREMENTAL)


def venue() -> Venue:
    return Venue.objects.get(pk=VENUE_ID)


def test_an_old_record_of_an_unchanged_event_does_not_rename_its_venue():
    apply(record(1, changed_at=T0, place={"id": VENUE_ID, "name": "Old name"}))
    apply(record(1, changed_at=T0 + timedelta(days=2), place={"id": VENUE_ID, "name": "New name"}))

    apply(record(1, changed_at=T0 + timedelta(days=1), place={"id": VENUE_ID, "name": "Old name"}))

    assert venue().name == "New name"
    assert venue().provider_changed_at == T0 + timedelta(days=2)


def test_an_older_record_without_city_does_not_empty_another_events_venue():
    apply(
        record(1, changed_at=T0 + timedelta(days=1), place={"id": VENUE_ID, "name": "Hall", "city": "Kazan"})
    )

    # Another event, new to us, whose record is older than the one that described the venue.
    apply(record(2, changed_at=T0, place={"id": VENUE_ID, "name": "Hall"}))

    assert venue().extra == {"city": "Kazan"}
    assert Event.objects.get(pk=uuid.UUID(int=2)).venue_id == uuid.UUID(VENUE_ID)  # the event is stored


def test_a_newer_record_updates_the_venue_even_from_another_event():
    apply(record(1, changed_at=T0, place={"id": VENUE_ID, "name": "Hall", "city": "Kazan"}))

    apply(record(2, changed_at=T0 + timedelta(hours=1), place={"id": VENUE_ID, "name": "Great Hall"}))

    assert (venue().name, venue().extra) == ("Great Hall", {})


def test_within_one_page_the_newest_record_wins_in_either_order():
    older = record(1, changed_at=T0, place={"id": VENUE_ID, "name": "Older"})
    newer = record(2, changed_at=T0 + timedelta(minutes=1), place={"id": VENUE_ID, "name": "Newer"})
    for page in ([older, newer], [newer, older]):
        Venue.objects.all().delete()
        Event.objects.all().delete()
        apply(*page)
        assert venue().name == "Newer"


def test_a_second_full_run_of_the_same_records_writes_no_venue():
    apply(record(1, changed_at=T0, place={"id": VENUE_ID, "name": "Hall"}))
    written = venue().updated_at

    apply(record(1, changed_at=T0, place={"id": VENUE_ID, "name": "Hall"}))

    assert venue().updated_at == written


def test_a_venue_synced_before_its_changed_at_was_kept_takes_the_next_record():
    Venue.objects.create(id=VENUE_ID, name="Before the migration", provider_changed_at=None)

    apply(record(1, changed_at=T0, place={"id": VENUE_ID, "name": "Described"}))

    assert venue().name == "Described"


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    descriptions=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.booleans()), min_size=1, max_size=12
    ),
    order=st.randoms(use_true_random=False),
    page_size=st.integers(1, 4),
)
def test_whatever_the_order_and_the_pages_the_venue_holds_the_newest_description(
    descriptions, order, page_size
):
    """Description n (a name, with or without a city) is changed n minutes after T0.
    Served in any order, cut into pages of any size: the newest wins."""
    Event.objects.all().delete()
    Venue.objects.all().delete()
    records = [
        record(
            100 + minutes,  # one event each: every record is the newest of its own event
            changed_at=T0 + timedelta(minutes=minutes),
            place={"id": VENUE_ID, "name": name, **({"city": f"City {minutes}"} if city else {})},
        )
        for minutes, (name, city) in enumerate(descriptions)
    ]
    order.shuffle(records)
    for start in range(0, len(records), page_size):
        apply(*records[start : start + page_size])

    minutes = len(descriptions) - 1
    name, city = descriptions[minutes]
    assert venue().name == name
    assert venue().extra == ({"city": f"City {minutes}"} if city else {})
    assert venue().provider_changed_at == T0 + timedelta(minutes=minutes)
