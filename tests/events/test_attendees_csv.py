"""The attendee list as CSV: streamed in keyset batches, safe to open in a spreadsheet."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from rest_framework.test import APIClient

from events_face.events import check_in
from events_face.events.check_in_apis import spreadsheet_safe
from tests.support.factories import (
    bearer,
    client_of,
    make_check_in_staff,
    make_event,
    make_registration,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def door() -> APIClient:
    return client_of(make_check_in_staff())


def rows_of(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_every_registration_is_a_line_in_the_order_registered(door, monkeypatch):
    monkeypatch.setattr(check_in, "ATTENDEE_BATCH", 2)  # several batches, and a last partial one
    event = make_event(capacity=3)
    made = [make_registration(event_id=event.id, full_name=f"Person {n}", waitlist=True) for n in range(5)]

    response = door.get(f"/api/events/{event.id}/attendees.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *lines = rows_of(response)
    assert header == ["name", "email", "status", "registered", "checked_in"]
    assert [line[0] for line in lines] == [registration.full_name for registration in made]
    assert [line[2] for line in lines] == ["confirmed"] * 3 + ["waitlisted"] * 2
    assert all(line[3].endswith("Z") and line[4] == "" for line in lines)


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(1)", "+1", "-1", "@SUM(1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_is_neutralised(dangerous):
    assert spreadsheet_safe(dangerous) == "'" + dangerous
    assert spreadsheet_safe("Ada") == "Ada"


def test_a_formula_in_a_name_reaches_the_file_quoted(door):
    event = make_event()
    make_registration(event_id=event.id, full_name="=cmd|' /C calc'!A0")

    (line,) = rows_of(door.get(f"/api/events/{event.id}/attendees.csv"))[1:]

    assert line[0] == "'=cmd|' /C calc'!A0"


def test_the_list_is_for_staff_only_and_needs_a_known_event(door):
    event = make_event()
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=bearer(make_user()))

    assert other.get(f"/api/events/{event.id}/attendees.csv").status_code == 403
    assert door.get("/api/events/not-a-uuid/attendees.csv").status_code == 404
