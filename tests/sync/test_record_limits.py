"""The sync's record limits are the model's: a record that passes validation can be stored.

The limits on storable dates are defined once (`core/storable_dates.py`); the
record validation, the list's cursors and its date filters all use them.
"""

from datetime import UTC, datetime, timedelta

import pytest

from events_face.core.pagination import InvalidCursor, decode_cursor, encode_cursor
from events_face.core.storable_dates import EARLIEST_MOMENT, EARLIEST_YEAR, LATEST_MOMENT, LATEST_YEAR
from events_face.events.models import Event, Venue
from events_face.sync import records
from events_face.sync.upsert import EVENT_COLUMNS, VENUE_COLUMNS

EVENT_ID = "6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11"
ONE_MICROSECOND = timedelta(microseconds=1)


def test_name_lengths_are_the_columns_lengths():
    assert Event._meta.get_field("name").max_length == records.EVENT_NAME_MAX_LENGTH
    assert Venue._meta.get_field("name").max_length == records.VENUE_NAME_MAX_LENGTH


def test_statuses_are_the_models_choices_and_fit_the_column():
    field = Event._meta.get_field("status")
    assert {value for value, _label in field.choices} == records.STATUSES
    assert max(map(len, records.STATUSES)) <= field.max_length


def test_the_upsert_writes_only_columns_the_models_have():
    event_columns = {field.attname for field in Event._meta.concrete_fields}
    venue_columns = {field.attname for field in Venue._meta.concrete_fields}
    assert set(EVENT_COLUMNS) <= event_columns and "capacity" not in EVENT_COLUMNS
    assert set(VENUE_COLUMNS) <= venue_columns


def _record_at(moment: datetime) -> dict:
    return {
        "id": EVENT_ID,
        "name": "Edge of time",
        "place": None,
        "event_time": moment.isoformat(),
        "registration_deadline": None,
        "status": "published",
        "changed_at": moment.isoformat(),
    }


@pytest.mark.parametrize("moment", [EARLIEST_MOMENT, LATEST_MOMENT])
def test_records_and_cursors_accept_exactly_the_storable_dates(moment):
    assert records.event_record_parse(_record_at(moment)).event_time == moment
    assert decode_cursor(encode_cursor(moment, EVENT_ID)).moment == moment

    beyond = moment - ONE_MICROSECOND if moment == EARLIEST_MOMENT else moment + ONE_MICROSECOND
    with pytest.raises(records.InvalidRecord, match="out of range"):
        records.event_record_parse(_record_at(beyond))
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor(beyond, EVENT_ID))


def test_the_date_filters_whole_years_lie_within_the_storable_dates():
    a_day = timedelta(days=1)
    assert datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC) - a_day >= EARLIEST_MOMENT
    assert datetime(LATEST_YEAR, 12, 31, tzinfo=UTC) + a_day <= LATEST_MOMENT + ONE_MICROSECOND


@pytest.mark.django_db
@pytest.mark.parametrize("moment", [EARLIEST_MOMENT, LATEST_MOMENT])
def test_the_date_limits_can_be_stored_and_read_back(moment):
    Event.objects.create(
        id=EVENT_ID,
        name="Edge of time",
        event_time=moment,
        registration_deadline=moment - timedelta(hours=1) if moment == LATEST_MOMENT else None,
        status="published",
        provider_changed_at=moment,
    )

    stored = Event.objects.get()
    assert stored.event_time == moment and stored.provider_changed_at == moment
