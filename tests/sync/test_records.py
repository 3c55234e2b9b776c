"""A provider record against the contract: what is accepted, what is skipped and why."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events_face.sync.records import EventRecord, InvalidRecord, event_record_parse

EVENT_ID = "6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11"
PLACE_ID = "0b6a2c34-5d7e-4f8a-9b1c-2d3e4f5a6b7c"


def contract_example(**changes) -> dict:
    record = {
        "id": EVENT_ID,
        "name": "Workshop: cryptography for engineers",
        "place": {"id": PLACE_ID, "name": "Hall A"},
        "event_time": "2025-12-01T19:00:00+03:00",
        "registration_deadline": "2025-11-30T19:00:00+03:00",
        "status": "published",
        "changed_at": "2025-11-01T10:00:00.501893+03:00",
    }
    record.update(changes)
    return record


def test_the_contracts_example_becomes_a_typed_record():
    record = event_record_parse(contract_example())

    assert isinstance(record, EventRecord)
    assert record.id == uuid.UUID(EVENT_ID)
    assert record.place.id == uuid.UUID(PLACE_ID) and record.place.name == "Hall A"
    assert record.event_time == datetime(2025, 12, 1, 16, 0, tzinfo=UTC)
    assert record.changed_at.utcoffset() == timedelta(hours=3)
    assert record.changed_at.microsecond == 501893


def test_fields_newer_providers_add_are_tolerated_and_extra_place_fields_are_kept():
    record = event_record_parse(
        contract_example(
            number_of_visitors=12,
            created_at="2025-10-01T10:00:00+03:00",
            status_changed_at="2025-10-02T10:00:00+03:00",
            place={"id": PLACE_ID, "name": "Hall A", "city": "Moscow", "seats_pattern": "1-300"},
        )
    )
    assert record.place.extra == {"city": "Moscow", "seats_pattern": "1-300"}


def test_null_place_and_null_deadline_are_allowed():
    record = event_record_parse(contract_example(place=None, registration_deadline=None))
    assert record.place is None and record.registration_deadline is None


def test_utc_designator_z_is_an_offset():
    record = event_record_parse(contract_example(event_time="2025-12-01T16:00:00Z"))
    assert record.event_time.tzinfo is not None and record.event_time.utcoffset() == timedelta(0)
    assert record.event_time == datetime(2025, 12, 1, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": None}, "id is missing"),
        ({"id": "42"}, "id is not a UUID"),
        ({"name": ""}, "name is missing or empty"),
        ({"name": "   "}, "name is missing or empty"),
        ({"name": "x" * 501}, "name is longer than 500"),
        ({"status": "postponed"}, "status is not one of"),
        ({"status": None}, "status is not one of"),
        ({"event_time": "next Tuesday"}, "event_time is not an ISO 8601 date-time"),
        ({"event_time": "2025-12-01T19:00:00"}, "event_time has no UTC offset"),
        ({"changed_at": None}, "changed_at is missing"),
        ({"registration_deadline": "soon"}, "registration_deadline is not an ISO 8601"),
        ({"place": "Hall A"}, "place is neither null nor an object"),
        ({"place": {"id": "nope", "name": "Hall A"}}, "place.id is not a UUID"),
        ({"place": {"id": PLACE_ID, "name": ""}}, "place.name is missing or empty"),
    ],
)
def test_a_record_that_breaks_the_contract_is_rejected_with_its_reason(changes, reason):
    with pytest.raises(InvalidRecord) as raised:
        event_record_parse(contract_example(**changes))
    assert reason in raised.value.reason


def test_a_rejected_record_carries_its_id_when_it_had_a_valid_one():
    with pytest.raises(InvalidRecord) as raised:
        event_record_parse(contract_example(status="postponed"))
    assert raised.value.event_id == uuid.UUID(EVENT_ID)


@pytest.mark.parametrize("raw", [None, [], "event", 3])
def test_a_record_that_is_not_an_object_is_rejected(raw):
    with pytest.raises(InvalidRecord, match="not an object"):
        event_record_parse(raw)
