"""A provider record against the contract: what is accepted, what is skipped and why."""

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events_face.events.models import Event, Venue
from events_face.sync import services, upsert
from events_face.sync.models import SyncRun
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


# --- what the databases cannot store is one record's problem, never the page's ------------------
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": 42}, "id is missing or not a string"),
        ({"id": ["6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11"]}, "id is missing or not a string"),
        ({"status": ["new"]}, "status is not one of"),
        ({"status": {"new": True}}, "status is not one of"),
        ({"status": 1}, "status is not one of"),
        ({"name": ["Workshop"]}, "name is not a string: list"),
        ({"name": {"en": "Workshop"}}, "name is not a string: dict"),
        ({"name": 7}, "name is not a string: int"),
        ({"name": "Work\x00shop"}, "name contains a NUL character"),
        ({"name": "Work\ud800shop"}, "name contains a lone surrogate"),
        ({"place": {"id": PLACE_ID, "name": ["Hall A"]}}, "place.name is not a string"),
        ({"place": {"id": PLACE_ID, "name": "Hall\x00A"}}, "place.name contains a NUL character"),
        ({"place": {"id": PLACE_ID, "name": "Hall \udfff"}}, "place.name contains a lone surrogate"),
        ({"place": {"id": PLACE_ID, "name": "Hall A", "city": "Mos\x00cow"}}, "place.city contains a NUL"),
        (
            {"place": {"id": PLACE_ID, "name": "Hall A", "rows": [{"label": "A\x00"}]}},
            "place.rows[0].label contains a NUL character",
        ),
        (
            {"place": {"id": PLACE_ID, "name": "Hall A", "c\x00ity": "Moscow"}},
            "a key of place contains a NUL",
        ),
        (
            {"place": {"id": PLACE_ID, "name": "Hall A", "address": {"street": "\ud800"}}},
            "place.address.street contains a lone surrogate",
        ),
        ({"place": {"id": PLACE_ID, "name": "Hall A", "seats": float("nan")}}, "place.seats is not a finite"),
        (
            {"place": {"id": PLACE_ID, "name": "Hall A", "seats": [float("inf")]}},
            "place.seats[0] is not a finite",
        ),
        ({"event_time": "0001-01-01T00:00:00+05:00"}, "event_time is out of range in UTC"),
        ({"event_time": "9999-12-31T23:00:00-05:00"}, "event_time is out of range in UTC"),
        ({"event_time": "9999-12-31T23:00:00+05:00"}, "event_time is out of range (years 1 to 9998"),
        ({"event_time": "0001-01-01T10:00:00+00:00"}, "event_time is out of range (years 1 to 9998"),
        ({"registration_deadline": "0001-01-01T00:00:00+14:00"}, "registration_deadline is out of range"),
        ({"changed_at": "9999-12-31T23:59:59-12:00"}, "changed_at is out of range"),
    ],
)
def test_a_record_the_databases_could_not_store_is_rejected_with_its_reason(changes, reason):
    with pytest.raises(InvalidRecord) as raised:
        event_record_parse(contract_example(**changes))
    assert reason in raised.value.reason
    if changes.keys() != {"id"}:
        assert raised.value.event_id == uuid.UUID(EVENT_ID)


def test_any_unicode_text_and_json_extras_within_range_are_accepted():
    record = event_record_parse(
        contract_example(
            name="Мастер-класс: 密码学 🔐",
            event_time="0001-01-02T00:00:00+00:00",
            registration_deadline="9998-12-31T23:59:59.999999+00:00",
            place={
                "id": PLACE_ID,
                "name": "Зал «A»",
                "address": {"street": "Тверская", "floors": [1, 2.5, None, True]},
                "seats_pattern": "1-300",
            },
        )
    )
    assert record.name == "Мастер-класс: 密码学 🔐"
    assert record.place.extra["address"] == {"street": "Тверская", "floors": [1, 2.5, None, True]}
    assert record.event_time.year == 1 and record.registration_deadline.year == 9998


# --- a page mixing good records with every kind of bad one, applied to the real database -------------
def numbered(n: int, **changes) -> dict:
    """The contract's example with its own id (and place id) n."""
    return contract_example(
        id=str(uuid.UUID(int=n)),
        **{"place": {"id": str(uuid.UUID(int=1000 + n)), "name": f"Hall {n}"}, **changes},
    )


BAD_RECORDS = {
    "status is a list": {"status": ["new"]},
    "status is an object": {"status": {"new": 1}},
    "name is a list": {"name": ["Workshop"]},
    "event_time year 1 east of UTC": {"event_time": "0001-01-01T00:00:00+05:00"},
    "event_time 9999-12-31 west of UTC": {"event_time": "9999-12-31T23:00:00-05:00"},
    "NUL in name": {"name": "Work\x00shop"},
    "NUL in place.name": {"place": {"id": str(uuid.UUID(int=9001)), "name": "Hall\x00A"}},
    "NUL in a place extra": {"place": {"id": str(uuid.UUID(int=9002)), "name": "Hall", "city": "M\x00"}},
    "NUL nested in a place extra": {
        "place": {"id": str(uuid.UUID(int=9003)), "name": "Hall", "address": {"lines": ["x", "\x00"]}}
    },
    "NUL in a place extra key": {"place": {"id": str(uuid.UUID(int=9004)), "name": "Hall", "\x00": "x"}},
    "lone surrogate in name": {"name": "\ud800"},
    "lone surrogate in a place extra": {
        "place": {"id": str(uuid.UUID(int=9005)), "name": "Hall", "city": "\udc00"}
    },
    "NaN in a place extra": {
        "place": {"id": str(uuid.UUID(int=9006)), "name": "Hall", "seats": float("nan")}
    },
}


@pytest.mark.django_db
def test_a_page_mixing_good_and_bad_records_applies_the_good_and_counts_the_bad(caplog):
    good = [
        numbered(1),
        numbered(
            2, name="Мастер-класс 🔐", place={"id": str(uuid.UUID(int=1002)), "name": "Зал", "a": {"b": [1]}}
        ),
        numbered(3, place=None, event_time="0001-01-02T00:00:00+00:00", registration_deadline=None),
        numbered(4, event_time="9998-12-31T23:59:59+00:00"),
    ]
    bad = [numbered(100 + n, **changes) for n, changes in enumerate(BAD_RECORDS.values())]
    page = []  # bad and good interleaved
    for n, record in enumerate(bad):
        page += [record, *good[n : n + 1]]
    run = services.sync_run_start(mode=SyncRun.Mode.ALL, since_date=None)

    with caplog.at_level(logging.WARNING, logger="events_face.sync"):
        result = upsert.sync_page_apply(run=run, records=page, page_url="http://provider/page-1")

    assert (result.records, result.created, result.skipped) == (len(page), len(good), len(bad))
    run.refresh_from_db()
    assert (run.pages, run.created, run.skipped) == (1, len(good), len(bad))
    stored = {str(pk) for pk in Event.objects.values_list("id", flat=True)}
    assert stored == {record["id"] for record in good}
    assert Event.objects.get(pk=good[1]["id"]).name == "Мастер-класс 🔐"
    assert Event.objects.get(pk=good[2]["id"]).event_time == datetime(1, 1, 2, tzinfo=UTC)
    assert Event.objects.get(pk=good[3]["id"]).event_time == datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert Venue.objects.get(pk=uuid.UUID(int=1002)).extra == {"a": {"b": [1]}}
    bad_places = [uuid.UUID(int=9000 + n) for n in range(1, 7)]
    assert not Venue.objects.filter(pk__in=bad_places).exists(), "no bad record's place is stored"
    skips = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipped provider record")]
    assert len(skips) == len(bad)
    assert all(str(uuid.UUID(int=100 + n)) in skips[n] for n in range(len(bad)))


@pytest.mark.django_db
def test_an_unforeseen_error_while_checking_one_record_skips_just_that_record(monkeypatch, caplog):
    """The backstop: a gap in the validation costs one record, logged with the exception's type."""
    unlucky = str(uuid.UUID(int=2))

    def parse(raw):
        if raw.get("id") == unlucky:
            raise KeyError("a gap in the validation")
        return event_record_parse(raw)

    monkeypatch.setattr(upsert, "event_record_parse", parse)
    run = services.sync_run_start(mode=SyncRun.Mode.ALL, since_date=None)

    with caplog.at_level(logging.WARNING, logger="events_face.sync"):
        result = upsert.sync_page_apply(run=run, records=[numbered(1), numbered(2), numbered(3)])

    assert (result.created, result.skipped) == (2, 1)
    assert {str(pk) for pk in Event.objects.values_list("id", flat=True)} == {
        str(uuid.UUID(int=1)),
        str(uuid.UUID(int=3)),
    }
    (skip,) = [r for r in caplog.records if r.getMessage().startswith("Skipped provider record")]
    assert unlucky in skip.getMessage() and "unexpected KeyError" in skip.getMessage()
    assert skip.exc_info is not None
