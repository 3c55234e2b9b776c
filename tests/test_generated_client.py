"""A client generated from our OpenAPI schema walks the whole flow against a live server.

openapi-python-client (a dev dependency, run offline) writes a typed package
from the schema once per session; the test imports it and signs up, logs in,
lists events, reads one, registers for it, lists its registrations and logs
out, through real HTTP; check-in staff scan a code at the door and read the
counts; a user downloads an event's calendar and subscribes to a personal
feed. What a generated client sees must be true: public operations take an
anonymous client, fields always sent are typed as present (never `Unset`),
nullable ones admit `None`, and every status an operation answers is in its
schema (the client raises on any other: `raise_on_unexpected_status`).
"""

import importlib
import inspect
import os
import subprocess
import sys
import typing
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from icalendar import Calendar

from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import bearer, make_check_in_staff, make_event, make_user, make_venue

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "events_face_client"


@pytest.fixture(scope="session")
def client_package(tmp_path_factory):
    """The generated package, imported; generated once per session (or per xdist worker)."""
    root = tmp_path_factory.mktemp("generated_client")
    schema_file = root / "schema.yaml"
    schema = SchemaGenerator().get_schema(request=None, public=True)
    schema_file.write_bytes(OpenApiYamlRenderer().render(schema, renderer_context={}))
    # No post hooks: they would run ruff over the code, which adds nothing to a test.
    config = root / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(schema_file),
            "--config",
            str(config),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def api(package, module: str):
    return importlib.import_module(f"{package.__name__}.api.{module}")


def model(package, name: str):
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)


def authenticated(live_server, user):
    """A generated client for `live_server` holding a fresh access token of `user`."""
    from events_face_client.client import AuthenticatedClient

    return AuthenticatedClient(
        base_url=live_server.url, token=bearer(user).removeprefix("Bearer "), raise_on_unexpected_status=True
    )


def client_type(function) -> tuple:
    """The client classes an operation function accepts, by its annotation."""
    annotation = inspect.signature(function).parameters["client"].annotation
    return typing.get_args(annotation) or (annotation,)


def test_public_operations_take_an_anonymous_client_and_jwt_ones_an_authenticated_one(client_package):
    from events_face_client.client import AuthenticatedClient, Client

    for module in [
        "auth.auth_register",
        "auth.auth_login",
        "auth.auth_token_obtain",
        "auth.auth_token_refresh",
        "auth.auth_logout",
        "health.health",
        "registrations.registrations_cancel_link",
        "registrations.registrations_cancel_link_retrieve",
        "calendar.calendar_feed",
    ]:
        assert Client in client_type(api(client_package, module).sync_detailed), module
    for module in [
        "events.events_list",
        "events.events_retrieve",
        "events.events_register",
        "registrations.registrations_list",
        "registrations.registrations_cancel",
        "metrics.metrics",
        "events.events_check_in",
        "events.events_attendance",
        "events.events_attendees_csv",
        "events.events_calendar",
        "calendar.calendar_token_issue",
        "calendar.calendar_token_revoke",
    ]:
        assert client_type(api(client_package, module).sync_detailed) == (AuthenticatedClient,), module


@pytest.mark.parametrize(
    ("component", "field", "typed_as"),
    [
        ("Event", "registration_deadline", "datetime.datetime | None"),
        ("Event", "venue", "None | Venue"),
        ("EventDetail", "registration_deadline", "datetime.datetime | None"),
        ("EventDetail", "capacity", "int | None"),
        ("Registration", "created_at", "datetime.datetime"),
    ],
)
def test_fields_always_sent_are_typed_as_present(client_package, component, field, typed_as):
    # The generated models postpone annotations: they are the source text.
    assert model(client_package, component).__annotations__[field] == typed_as


def test_the_whole_flow_through_the_generated_client(client_package, live_server):
    from events_face_client.client import AuthenticatedClient, Client
    from events_face_client.types import Unset

    open_event = make_event(name="Generated client night", capacity=3, venue=make_venue(name="Hall G"))
    make_event(name="No limit, no deadline", registration_deadline=None)
    TokenPair = model(client_package, "TokenPair")

    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)
    signed_up = api(client_package, "auth.auth_register").sync(
        client=anonymous,
        body=model(client_package, "RegisterInputRequest")(
            username="gen", email="gen@example.com", password="  generated pass 123  "
        ),
    )
    assert isinstance(signed_up, TokenPair)

    pair = api(client_package, "auth.auth_login").sync(
        client=anonymous,
        body=model(client_package, "TokenObtainPairRequest")(
            username="GEN", password="  generated pass 123  "
        ),
    )
    assert isinstance(pair, TokenPair)
    client = AuthenticatedClient(base_url=live_server.url, token=pair.access, raise_on_unexpected_status=True)

    page = api(client_package, "events.events_list").sync(
        client=client, page_size=100, status=[model(client_package, "EventsListStatusItem")("all")]
    )
    assert isinstance(page, model(client_package, "PaginatedEventList"))
    assert page.next_ is None and page.previous is None
    assert sorted(item.name for item in page.results) == ["Generated client night", "No limit, no deadline"]
    for item in page.results:
        assert not isinstance(item.registration_deadline, Unset)
        assert item.registration_deadline is None or isinstance(item.registration_deadline, datetime)
        assert item.venue is None or item.venue.name == "Hall G"

    for item in page.results:
        detail = api(client_package, "events.events_retrieve").sync(client=client, event_id=item.id)
        assert isinstance(detail, model(client_package, "EventDetail"))
        assert detail.capacity == (3 if item.id == open_event.id else None)

    registration = api(client_package, "events.events_register").sync(
        client=client,
        event_id=open_event.id,
        body=model(client_package, "RegistrationInputRequest")(
            full_name="Gen Client", email="gen@example.com"
        ),
    )
    assert isinstance(registration, model(client_package, "Registration"))
    assert registration.event == open_event.id
    assert isinstance(registration.created_at, datetime)
    assert Registration.objects.filter(pk=registration.id, user__username="gen").exists()
    assert OutboxMessage.objects.count() == 1  # the notification waits for the worker

    mine = api(client_package, "registrations.registrations_list").sync(client=client)
    assert [r.id for r in mine.results] == [registration.id]

    logout = api(client_package, "auth.auth_logout").sync_detailed(
        client=anonymous, body=model(client_package, "RefreshInputRequest")(refresh=pair.refresh)
    )
    assert logout.status_code == 204
    refreshed = api(client_package, "auth.auth_token_refresh").sync(
        client=anonymous, body=model(client_package, "TokenRefreshRequest")(refresh=pair.refresh)
    )
    assert isinstance(refreshed, model(client_package, "Error"))
    assert refreshed.error.code == "token_not_valid"


def test_join_the_waiting_list_cancel_and_promotion_through_the_generated_client(client_package, live_server):
    event = make_event(name="One seat", capacity=1)
    seated, waiting = (authenticated(live_server, make_user()) for _ in range(2))
    Request = model(client_package, "RegistrationInputRequest")
    register = api(client_package, "events.events_register")

    seat = register.sync(
        client=seated, event_id=event.id, body=Request(full_name="Ada", email="ada@example.com")
    )
    full = register.sync_detailed(
        client=waiting, event_id=event.id, body=Request(full_name="Bo", email="bo@example.com")
    )
    queued = register.sync(
        client=waiting, event_id=event.id, body=Request(full_name="Bo", email="bo@example.com", waitlist=True)
    )
    assert seat.status.value == "confirmed"
    assert full.status_code == 409 and full.parsed.error.code == "event_full"
    assert (queued.status.value, queued.waitlist_position) == ("waitlisted", 1)
    detail = api(client_package, "events.events_retrieve").sync(client=waiting, event_id=event.id)
    assert detail.seats_left == 0

    cancelled = api(client_package, "registrations.registrations_cancel").sync(
        client=seated, registration_id=seat.id
    )
    assert cancelled.status.value == "cancelled"
    assert isinstance(cancelled.cancelled_at, datetime)

    mine = api(client_package, "registrations.registrations_list").sync(client=waiting)
    assert [(r.id, r.status.value, r.waitlist_position) for r in mine.results] == [
        (queued.id, "confirmed", None)
    ]
    not_mine = api(client_package, "registrations.registrations_cancel").sync_detailed(
        client=waiting, registration_id=seat.id
    )
    assert not_mine.status_code == 404


def test_health_through_the_generated_client(client_package, live_server):
    from events_face_client.client import Client

    health = api(client_package, "health.health").sync(client=Client(base_url=live_server.url))

    assert health.status == "ok"


def test_check_in_at_the_door_and_attendance_through_the_generated_client(client_package, live_server):
    """Staff scan a confirmed registrant's code once (200), a second scan answers 409
    `already_checked_in` with the first check-in, and the counts and the attendee list say so.

    The schema types the 409 as `CheckInConflict`: its error's `registration` is a typed
    `CheckedIn`, so a door app shows who came and when without reading untyped extras. The
    attendee list is `text/csv`, which the generated client hands back as a `str` only
    (`parsed`); its header and lines are read from that text, and the media type from the
    raw response's headers.
    """
    Request = model(client_package, "RegistrationInputRequest")
    register = api(client_package, "events.events_register")
    check_in = api(client_package, "events.events_check_in")
    event = make_event(
        name="Door night",
        capacity=2,
        event_time=timezone.now() + timedelta(hours=1),
        registration_deadline=None,
    )
    ada, bo, cy = (authenticated(live_server, make_user()) for _ in range(3))
    seat = register.sync(
        client=ada, event_id=event.id, body=Request(full_name="Ada", email="ada@example.com")
    )
    register.sync(client=bo, event_id=event.id, body=Request(full_name="Bo", email="bo@example.com"))
    register.sync(
        client=cy, event_id=event.id, body=Request(full_name="Cy", email="cy@example.com", waitlist=True)
    )
    code = Registration.objects.get(pk=seat.id).confirmation_code  # what Ada's confirmation carries
    door = authenticated(live_server, make_check_in_staff())
    body = model(client_package, "CheckInInputRequest")(code=code)

    first = check_in.sync(client=door, event_id=event.id, body=body)
    second = check_in.sync_detailed(client=door, event_id=event.id, body=body)

    assert isinstance(first, model(client_package, "CheckedIn"))
    assert (first.id, first.full_name) == (seat.id, "Ada")
    assert isinstance(first.checked_in_at, datetime)
    assert second.status_code == 409
    assert isinstance(second.parsed, model(client_package, "CheckInConflict"))
    assert second.parsed.error.code == "already_checked_in"
    assert second.parsed.error.registration.to_dict() == first.to_dict()

    attendance = api(client_package, "events.events_attendance").sync(client=door, event_id=event.id)
    assert isinstance(attendance, model(client_package, "Attendance"))
    assert (
        attendance.capacity,
        attendance.confirmed,
        attendance.waitlisted,
        attendance.cancelled,
        attendance.checked_in,
    ) == (2, 2, 1, 0, 1)
    refused = api(client_package, "events.events_attendance").sync_detailed(client=ada, event_id=event.id)
    assert refused.status_code == 403 and refused.parsed.error.code == "permission_denied"

    attendees = api(client_package, "events.events_attendees_csv").sync_detailed(
        client=door, event_id=event.id
    )
    assert attendees.status_code == 200
    assert attendees.headers["content-type"] == "text/csv; charset=utf-8"
    header, *lines = attendees.parsed.splitlines()
    assert header == "name,email,status,registered,checked_in"
    assert [line.split(",")[:3] for line in lines] == [
        ["Ada", "ada@example.com", "confirmed"],
        ["Bo", "bo@example.com", "confirmed"],
        ["Cy", "cy@example.com", "waitlisted"],
    ]
    assert lines[0].split(",")[4] and not lines[1].split(",")[4]  # only Ada came


def calendar_uids(text: str | bytes) -> set[str]:
    """The UIDs of the VEVENTs of an iCalendar file, parsed as a calendar app would."""
    return {str(entry["UID"]) for entry in Calendar.from_ical(text).walk("VEVENT")}


def test_an_events_calendar_and_a_personal_feed_through_the_generated_client(client_package, live_server):
    """A user downloads one event's calendar, subscribes to a feed URL, reads it with no token,
    revokes it, and the URL answers 404 from then on.

    Calendar files are `text/calendar`: the generated client gives their body as a `str`
    (`parsed`), parsed here with `icalendar`, and their ETag only in the raw response's
    headers. The feed URL is fetched with plain httpx, as a calendar app subscribed to it
    would; after the revocation the generated `calendar_feed` operation, given the URL's
    token, also reads the 404 as a typed error.
    """
    from events_face_client.client import Client

    event = make_event(name="Feed night")
    make_event(name="Not registered")
    user = authenticated(live_server, make_user())
    api(client_package, "events.events_register").sync(
        client=user,
        event_id=event.id,
        body=model(client_package, "RegistrationInputRequest")(full_name="Ada", email="ada@example.com"),
    )
    calendar = api(client_package, "events.events_calendar")

    one = calendar.sync_detailed(client=user, event_id=event.id)
    unchanged = calendar.sync_detailed(
        client=user.with_headers({"If-None-Match": one.headers["etag"]}), event_id=event.id
    )

    assert one.status_code == 200
    assert one.headers["content-type"] == "text/calendar; charset=utf-8"
    assert calendar_uids(one.parsed) == {f"{event.id}@events-face"}
    assert unchanged.status_code == 304 and unchanged.content == b""

    issued = api(client_package, "calendar.calendar_token_issue").sync(client=user)
    assert isinstance(issued, model(client_package, "CalendarFeedUrl"))
    assert issued.url.startswith(f"{live_server.url}/api/calendar/") and issued.url.endswith(".ics")

    feed = httpx.get(issued.url)  # no Authorization: calendar apps cannot send one
    assert feed.status_code == 200
    assert calendar_uids(feed.content) == {f"{event.id}@events-face"}

    revoked = api(client_package, "calendar.calendar_token_revoke").sync_detailed(client=user)
    assert revoked.status_code == 204

    gone = httpx.get(issued.url)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    token = issued.url.rsplit("/", 1)[1].removesuffix(".ics")
    typed = api(client_package, "calendar.calendar_feed").sync(
        client=Client(base_url=live_server.url, raise_on_unexpected_status=True), token=token
    )
    assert isinstance(typed, model(client_package, "Error")) and typed.error.code == "not_found"
