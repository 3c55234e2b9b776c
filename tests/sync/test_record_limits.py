"""The sync's record limits are the model's: a record that passes validation can be stored."""

from datetime import timedelta

import pytest

from events_face.events.models import Event, Venue
from events_face.sync import records
from events_face.sync.upsert import EVENT_COLUMNS, VENUE_COLUMNS


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


@pytest.mark.django_db
@pytest.mark.parametrize("moment", [records.EARLIEST_MOMENT, records.LATEST_MOMENT])
def test_the_date_limits_can_be_stored_and_read_back(moment):
    Event.objects.create(
        id="6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11",
        name="Edge of time",
        event_time=moment,
        registration_deadline=moment - timedelta(hours=1) if moment == records.LATEST_MOMENT else None,
        status="published",
        provider_changed_at=moment,
    )

    stored = Event.objects.get()
    assert stored.event_time == moment and stored.provider_changed_at == moment
