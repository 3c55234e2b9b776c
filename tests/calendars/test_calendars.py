"""Calendar files: one event's (JWT) and a personal feed behind a secret URL.

Every file is parsed back with the `icalendar` library, as a calendar app would.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from rest_framework.test import APIClient

from events_face.calendars.models import CalendarFeed
from events_face.events.lifecycle import registration_cancel
from events_face.events.models import Event
from tests.support.factories import bearer, make_event, make_registration, make_user, make_venue
from tests.support.sync import page_apply

pytestmark = pytest.mark.django_db


def entries(body: bytes) -> dict[str, dict]:
    """The VEVENTs of an .ics body by UID, each as {property: decoded value}."""
    calendar = Calendar.from_ical(body)
    found = {}
    for component in calendar.walk("VEVENT"):
        found[str(component["UID"])] = {
            "start": component.decoded("DTSTART"),
            "end": component.decoded("DTEND"),
            "summary": str(component["SUMMARY"]),
            "sequence": int(component["SEQUENCE"]),
            "status": str(component["STATUS"]),
            "location": str(component["LOCATION"]) if "LOCATION" in component else None,
        }
    return found


def uid(event) -> str:
    return f"{event.id}@events-face"


def test_an_events_calendar_file_describes_it_in_utc_with_its_venue(auth_client):
    venue = make_venue(name="Hall A", extra={"city": "Kazan", "address": "1 Main St"})
    start = datetime(2030, 6, 1, 16, 30, tzinfo=UTC)
    event = make_event(name="Crypto workshop", venue=venue, event_time=start, registration_deadline=None)

    response = auth_client.get(f"/api/events/{event.id}/calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    (entry,) = entries(response.content).values()
    assert entries(response.content)[uid(event)] == {
        "start": start,
        "end": start + timedelta(minutes=120),
        "summary": "Crypto workshop",
        "sequence": 0,
        "status": "CONFIRMED",
        "location": "Hall A, 1 Main St, Kazan",
    }
    assert entry["start"].tzinfo is not None and entry["start"].utcoffset() == timedelta(0)


def test_the_event_length_comes_from_calendar_event_minutes(auth_client, settings):
    settings.CALENDAR_EVENT_MINUTES = 45
    event = make_event()

    (entry,) = entries(auth_client.get(f"/api/events/{event.id}/calendar.ics").content).values()

    assert entry["end"] - entry["start"] == timedelta(minutes=45)


def test_an_events_calendar_needs_a_token_and_a_known_id(api_client, auth_client):
    event = make_event()

    assert api_client.get(f"/api/events/{event.id}/calendar.ics").status_code == 401
    for unknown in (uuid.uuid4(), "not-a-uuid"):
        response = auth_client.get(f"/api/events/{unknown}/calendar.ics")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_calendar_file_is_validated_by_its_etag(auth_client):
    event = make_event()
    first = auth_client.get(f"/api/events/{event.id}/calendar.ics")

    again = auth_client.get(f"/api/events/{event.id}/calendar.ics", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304 and again.content == b""
    Event.objects.filter(pk=event.pk).update(name="Renamed", calendar_sequence=1)
    changed = auth_client.get(f"/api/events/{event.id}/calendar.ics", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def feed_url(client: APIClient) -> str:
    response = client.post("/api/calendar/token/")
    assert response.status_code == 201, response.content
    return response.json()["url"]


def test_the_feed_lists_the_users_registered_events_and_needs_no_jwt(user, auth_client):
    mine = [make_registration(user=user).event for _ in range(2)]
    someone_elses = make_registration(user=make_user()).event
    url = feed_url(auth_client)

    response = APIClient().get(url)  # no Authorization: calendar apps cannot send one

    assert response.status_code == 200
    assert set(entries(response.content)) == {uid(event) for event in mine}
    assert uid(someone_elses) not in entries(response.content)
    assert url.startswith("http://testserver/api/calendar/") and url.endswith(".ics")


def test_waitlisted_and_cancelled_registrations_are_not_in_the_feed(user, auth_client):
    full = make_event(capacity=1)
    make_registration(event_id=full.id)
    make_registration(event_id=full.id, user=user, waitlist=True)
    withdrawn = make_registration(user=user)
    registration_cancel(registration_id=withdrawn.id, user=user)
    confirmed = make_registration(user=user).event

    assert set(entries(APIClient().get(feed_url(auth_client)).content)) == {uid(confirmed)}


def test_a_cancelled_event_stays_in_the_feed_marked_cancelled(user, auth_client):
    event = make_registration(user=user).event
    url = feed_url(auth_client)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)

    assert entries(APIClient().get(url).content)[uid(event)]["status"] == "CANCELLED"


def test_a_new_token_replaces_the_old_url_and_delete_revokes_it(user, auth_client):
    make_registration(user=user)
    old = feed_url(auth_client)
    new = feed_url(auth_client)
    anonymous = APIClient()

    assert old != new
    assert anonymous.get(old).status_code == 404
    assert anonymous.get(old).json()["error"]["code"] == "not_found"
    assert anonymous.get(new).status_code == 200

    assert auth_client.delete("/api/calendar/token/").status_code == 204
    assert anonymous.get(new).status_code == 404
    assert auth_client.delete("/api/calendar/token/").status_code == 204  # nothing left: the same answer


def test_the_token_is_stored_only_as_a_hash(user, auth_client):
    token = feed_url(auth_client).rsplit("/", 1)[1].removesuffix(".ics")

    (stored,) = CalendarFeed.objects.filter(user=user).values_list("token_sha256", flat=True)
    assert token not in stored and len(stored) == 64
    assert len(token) >= 40  # 32 random bytes


def test_the_feed_is_validated_by_its_etag(user, auth_client):
    make_registration(user=user)
    url = feed_url(auth_client)
    first = APIClient().get(url)

    assert APIClient().get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_feed_token_endpoint_needs_a_jwt(api_client):
    assert api_client.post("/api/calendar/token/").status_code == 401
    assert api_client.delete("/api/calendar/token/").status_code == 401


def test_the_feed_of_a_deactivated_user_answers_404(user, auth_client):
    url = feed_url(auth_client)
    user.is_active = False
    user.save()

    assert APIClient().get(url).status_code == 404


def record(n: int, **changes) -> dict:
    fields = {
        "id": str(uuid.UUID(int=n)),
        "name": "Workshop",
        "place": {"id": str(uuid.UUID(int=1000 + n)), "name": "Hall A"},
        "event_time": "2030-12-01T19:00:00+00:00",
        "registration_deadline": "2030-11-30T19:00:00+00:00",
        "status": "published",
        "changed_at": "2030-11-01T10:00:00+00:00",
    }
    return {**fields, **changes}


def sequence(n: int) -> int:
    return Event.objects.get(pk=uuid.UUID(int=n)).calendar_sequence


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Workshop, moved"},
        {"event_time": "2030-12-02T19:00:00+00:00"},
        {"place": {"id": str(uuid.UUID(int=5555)), "name": "Hall B"}},
    ],
    ids=["name", "time", "venue"],
)
def test_the_sync_raises_the_sequence_when_the_name_time_or_venue_changes(change):
    page_apply(record(1))
    assert sequence(1) == 0

    page_apply(record(1, changed_at="2030-11-02T10:00:00+00:00", **change))
    assert sequence(1) == 1
    page_apply(record(1, changed_at="2030-11-02T10:00:00+00:00", **change))  # the same page again
    assert sequence(1) == 1


def test_other_changes_keep_the_sequence():
    page_apply(record(1))

    page_apply(record(1, changed_at="2030-11-02T10:00:00+00:00", registration_deadline=None, status="new"))

    assert sequence(1) == 0


def test_the_sequence_reaches_the_calendar_file(client):
    page_apply(record(1))
    page_apply(record(1, changed_at="2030-11-02T10:00:00+00:00", event_time="2030-12-05T19:00:00+00:00"))
    page_apply(record(1, changed_at="2030-11-03T10:00:00+00:00", name="Workshop II"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(make_user()))

    (entry,) = entries(client.get(f"/api/events/{uuid.UUID(int=1)}/calendar.ics").content).values()

    assert entry["sequence"] == 2 and entry["summary"] == "Workshop II"
