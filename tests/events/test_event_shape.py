"""The list and detail items, shaped from rows by `event_item`, are what the schema documents.

`EventSerializer` and `EventDetailSerializer` describe the items in the OpenAPI
schema; the API renders them without a serializer. These tests hold the two to
the same bytes, for every kind of value (no venue, no deadline, microseconds).
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from events_face.events.models import Event
from events_face.events.serializers import EventDetailSerializer, EventSerializer
from tests.support.factories import make_event, make_venue

pytestmark = pytest.mark.django_db


def documented(serializer_class, event: Event) -> list | dict:
    return json.loads(JSONRenderer().render(serializer_class(event).data))


@pytest.fixture
def events() -> list[Event]:
    now = timezone.now().replace(microsecond=0)
    return [
        make_event(
            name="Plain", event_time=now + timedelta(days=3), venue=make_venue(name="Hall A"), capacity=40
        ),
        make_event(
            name="No venue, no deadline",
            event_time=now + timedelta(days=4, microseconds=123456),
            venue=None,
            registration_deadline=None,
        ),
        make_event(
            name="Ünïcødé “quotes” \\ and </script>",
            event_time=now + timedelta(days=5),
            status=Event.Status.NEW,
            registration_deadline=now + timedelta(days=1, microseconds=5),
        ),
    ]


def test_list_items_equal_what_the_documented_serializer_gives(auth_client, events):
    items = auth_client.get("/api/events/").json()["results"]

    assert items == [documented(EventSerializer, event) for event in events]


def test_the_detail_equals_what_the_documented_serializer_gives(auth_client, events):
    for event in events:
        assert auth_client.get(f"/api/events/{event.id}/").json() == documented(EventDetailSerializer, event)
