"""A client generated from our OpenAPI schema walks the whole flow against a live server.

openapi-python-client (a dev dependency, run offline) writes a typed package
from the schema once per session; the test imports it and signs up, logs in,
lists events, reads one, registers for it, lists its registrations and logs
out, through real HTTP. What a generated client sees must be true: public
operations take an anonymous client, fields always sent are typed as
present (never `Unset`), nullable ones admit `None`.
"""

import importlib
import inspect
import os
import subprocess
import sys
import typing
from datetime import datetime
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer

from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import bearer, make_event, make_user, make_venue

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
    ]:
        assert Client in client_type(api(client_package, module).sync_detailed), module
    for module in [
        "events.events_list",
        "events.events_retrieve",
        "events.events_register",
        "registrations.registrations_list",
        "registrations.registrations_cancel",
        "metrics.metrics",
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
    from events_face_client.client import AuthenticatedClient

    event = make_event(name="One seat", capacity=1)
    seated, waiting = (
        AuthenticatedClient(
            base_url=live_server.url,
            token=bearer(make_user()).removeprefix("Bearer "),
            raise_on_unexpected_status=True,
        )
        for _ in range(2)
    )
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
