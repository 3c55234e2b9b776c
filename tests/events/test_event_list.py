"""GET /api/events/: defaults, filters, ordering and keyset pagination."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events_face.core.storable_dates import EARLIEST_MOMENT
from events_face.events.models import Event
from tests.support.factories import make_event, make_venue

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["results"]]


def collect(client, url: str) -> list[dict]:
    """Follow `next` links to the end, returning every item."""
    items = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        items.extend(response.json()["results"])
        url = response.json()["next"]
    return items


def test_by_default_only_upcoming_events_open_for_registration_are_listed(auth_client):
    now = timezone.now()
    make_event(name="new", status=Event.Status.NEW)
    make_event(name="published", status=Event.Status.PUBLISHED)
    for status in ["registration_closed", "finished", "cancelled"]:
        make_event(name=status, status=status)
    make_event(name="past", event_time=now - timedelta(hours=1))
    make_event(name="deadline passed", registration_deadline=now - timedelta(minutes=1))

    response = auth_client.get("/api/events/")

    assert response.status_code == 200
    assert sorted(names(response)) == ["new", "published"]


def test_items_have_the_documented_shape(auth_client):
    venue = make_venue(name="Hall A")
    event = make_event(name="Workshop", venue=venue)
    make_event(name="Nowhere", event_time=event.event_time + timedelta(hours=1))

    items = auth_client.get("/api/events/").json()["results"]

    assert items[0] == {
        "id": str(event.id),
        "name": "Workshop",
        "event_time": event.event_time.isoformat().replace("+00:00", "Z"),
        "registration_deadline": event.registration_deadline.isoformat().replace("+00:00", "Z"),
        "status": "published",
        "registration_open": True,
        "venue": {"id": str(venue.id), "name": "Hall A"},
        "seats_left": None,
    }
    assert items[1]["venue"] is None


def test_registration_open_is_false_after_the_deadline(auth_client):
    make_event(name="late", registration_deadline=timezone.now() - timedelta(minutes=1))

    [item] = auth_client.get("/api/events/?status=published").json()["results"]

    assert item["registration_open"] is False


def test_events_are_ordered_by_time_then_id_and_can_be_reversed(auth_client):
    base = timezone.now() + timedelta(days=3)
    for offset in [3, 1, 2]:
        make_event(name=f"e{offset}", event_time=base + timedelta(hours=offset))

    assert names(auth_client.get("/api/events/")) == ["e1", "e2", "e3"]
    assert names(auth_client.get("/api/events/?ordering=-event_time")) == ["e3", "e2", "e1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=cancelled", ["cancelled"]),
        ("status=cancelled,finished", ["cancelled", "finished"]),
        ("status=cancelled&status=new", ["cancelled", "new"]),
        ("status=all", ["cancelled", "finished", "new", "published", "registration_closed"]),
    ],
)
def test_status_filter_takes_one_several_or_all(auth_client, query, expected):
    for status in Event.Status.values:
        make_event(name=status, status=status)

    assert sorted(names(auth_client.get(f"/api/events/?{query}"))) == expected


def test_name_filter_is_a_case_insensitive_substring(auth_client):
    make_event(name="Workshop: Cryptography")
    make_event(name="Concert")

    assert names(auth_client.get("/api/events/?name=CRYPTO")) == ["Workshop: Cryptography"]


def test_date_range_is_inclusive_and_replaces_the_upcoming_default(auth_client):
    make_event(name="last year", event_time=datetime(2025, 1, 1, 12, tzinfo=UTC))
    make_event(name="jan 10", event_time=datetime(2025, 1, 10, 23, 59, tzinfo=UTC))
    make_event(name="jan 11", event_time=datetime(2025, 1, 11, 0, 0, tzinfo=UTC))

    response = auth_client.get("/api/events/?date_from=2025-01-02&date_to=2025-01-10")

    assert names(response) == ["jan 10"]


def test_venue_filter(auth_client):
    hall = make_venue()
    make_event(name="here", venue=hall)
    make_event(name="elsewhere", venue=make_venue())

    assert names(auth_client.get(f"/api/events/?venue={hall.id}")) == ["here"]


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "status=",
        "date_from=2025-13-01",
        "date_to=yesterday",
        "date_from=2025-02-01&date_to=2025-01-01",
        "venue=not-a-uuid",
        "ordering=name",
        "page_size=0",
        "page_size=abc",
        "name=" + "x" * 201,
    ],
)
def test_bad_query_parameters_are_400_with_field_errors(auth_client, query):
    response = auth_client.get(f"/api/events/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"]


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ", "WyJub3QtYS1kYXRlIiwieCIsZmFsc2Vd"])
def test_a_tampered_cursor_is_400(auth_client, cursor):
    make_event()

    response = auth_client.get(f"/api/events/?cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_pagination_visits_every_event_once_even_when_times_tie(auth_client):
    tie = timezone.now() + timedelta(days=5)
    made = {str(make_event(event_time=tie if i % 2 else tie + timedelta(minutes=i)).id) for i in range(23)}

    items = collect(auth_client, "/api/events/?page_size=4")

    assert [item["id"] for item in items] == [
        item["id"] for item in sorted(items, key=lambda i: (i["event_time"], i["id"]))
    ]
    assert len(items) == len(made)
    assert {item["id"] for item in items} == made


def test_pagination_works_in_descending_order_too(auth_client):
    base = timezone.now() + timedelta(days=1)
    for i in range(7):
        make_event(name=f"e{i}", event_time=base + timedelta(hours=i))

    items = collect(auth_client, "/api/events/?ordering=-event_time&page_size=3")

    assert [item["name"] for item in items] == [f"e{i}" for i in reversed(range(7))]


def test_previous_link_returns_the_previous_page(auth_client):
    base = timezone.now() + timedelta(days=1)
    for i in range(9):
        make_event(name=f"e{i}", event_time=base + timedelta(hours=i))

    first = auth_client.get("/api/events/?page_size=3").json()
    second = auth_client.get(first["next"]).json()
    back = auth_client.get(second["previous"]).json()

    assert first["previous"] is None
    assert [i["name"] for i in second["results"]] == ["e3", "e4", "e5"]
    assert back["results"] == first["results"]
    assert auth_client.get(back["next"]).json()["results"] == second["results"]


def test_links_keep_the_filters(auth_client):
    for i in range(3):
        make_event(name=f"match {i}")
    make_event(name="other")

    first = auth_client.get("/api/events/?name=match&page_size=2").json()

    assert parse_qs(urlparse(first["next"]).query)["name"] == ["match"]
    assert [i["name"] for i in auth_client.get(first["next"]).json()["results"]] == ["match 2"]


def test_the_number_of_queries_does_not_depend_on_page_size(auth_client):
    for _ in range(30):
        make_event(venue=make_venue())

    with CaptureQueriesContext(connection) as small:
        first = auth_client.get("/api/events/?page_size=2").json()
    with CaptureQueriesContext(connection) as large:
        auth_client.get("/api/events/?page_size=30")
    with CaptureQueriesContext(connection) as deeper:
        auth_client.get(first["next"] + "&page_size=25")

    assert len(small) == len(large) == len(deeper) <= 2


def test_one_event_is_returned_with_its_capacity(auth_client):
    event = make_event(name="Talk", capacity=50, venue=make_venue(name="Hall B"))

    response = auth_client.get(f"/api/events/{event.id}")

    assert response.status_code == 200
    assert response.json()["name"] == "Talk"
    assert response.json()["capacity"] == 50
    assert response.json()["venue"]["name"] == "Hall B"


@pytest.mark.parametrize("event_id", ["6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11", "not-a-uuid", "1", "%00"])
def test_an_unknown_or_malformed_event_id_is_404(auth_client, event_id):
    response = auth_client.get(f"/api/events/{event_id}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_errors_of_several_status_values_are_flat_lists_of_messages(auth_client):
    response = auth_client.get("/api/events/?status=bogus,new,worse")

    assert response.status_code == 400
    messages = response.json()["error"]["fields"]["status"]
    assert all(isinstance(message, str) for message in messages)
    assert any(message.startswith("item 0: ") for message in messages)
    assert any(message.startswith("item 2: ") for message in messages)


def _cursor(*parts) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("2025-01-01T00:00:00+00:00", 123, False),
        _cursor("2025-01-01T00:00:00+00:00", "6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11", "no"),
        _cursor("2025-01-01T00:00:00", "6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11", False),
        _cursor("0001-01-01T00:00:00+05:00", "6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11", False),
        _cursor("9999-12-31T23:00:00-05:00", "6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11", True),
        _cursor("2025-01-01T00:00:00+00:00", "6f1b8f4e-3c1e-4f55-9a43-2f7c4e0d9b11"),
        _cursor({"t": 1}),
    ],
)
@pytest.mark.parametrize("path", ["/api/events/", "/api/registrations/"])
def test_a_well_formed_cursor_with_wrong_contents_is_400(auth_client, path, cursor):
    make_event()

    response = auth_client.get(f"{path}?cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01", "date_from=9999-12-31"])
def test_dates_beyond_what_can_be_stored_are_400(auth_client, query):
    response = auth_client.get(f"/api/events/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_pages_of_events_at_the_earliest_storable_date_link_to_each_other(auth_client):
    """The cursor accepts every date the sync may store (`core/storable_dates.py`), year 1 included."""
    for day in range(3):
        make_event(
            name=f"antiquity {day}",
            event_time=EARLIEST_MOMENT + timedelta(days=day),
            registration_deadline=None,
        )

    items = collect(auth_client, "/api/events/?date_to=0002-01-01&status=all&page_size=1")

    assert [item["name"] for item in items] == ["antiquity 0", "antiquity 1", "antiquity 2"]
