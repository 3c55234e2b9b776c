"""`seats_left` in the event list and detail: capacity less confirmed registrations, null when
unlimited, and with the response cache on at most 5 seconds behind a registration or a cancellation."""

import re
import time

import pytest
from django.core.cache import cache

from events_face.events.lifecycle import event_capacity_set
from events_face.events.response_cache import catalogue_version
from tests.support.factories import make_event, make_registration
from tests.support.polling import wait_until

pytestmark = pytest.mark.django_db


def seats(client, event) -> tuple[int | None, int | None]:
    listed = {item["id"]: item for item in client.get("/api/events/").json()["results"]}
    return listed[str(event.id)]["seats_left"], client.get(f"/api/events/{event.id}/").json()["seats_left"]


def test_seats_left_counts_confirmed_registrations_only(auth_client):
    event = make_event(capacity=3)
    make_registration(event_id=event.id)
    make_registration(event_id=event.id)
    cancelled = make_registration(event_id=event.id)
    from events_face.events.lifecycle import registration_cancel

    registration_cancel(registration_id=cancelled.id, user=cancelled.user)
    make_registration(event_id=event.id)  # takes the freed seat: 3 confirmed
    make_registration(event_id=event.id, waitlist=True)

    assert seats(auth_client, event) == (0, 0)


def test_seats_left_is_null_when_the_capacity_is_unlimited(auth_client):
    event = make_event(capacity=None)
    make_registration(event_id=event.id)

    assert seats(auth_client, event) == (None, None)


def test_seats_left_is_never_negative_when_the_capacity_was_cut(auth_client):
    event = make_event(capacity=3)
    for _ in range(3):
        make_registration(event_id=event.id)
    event_capacity_set(event_id=event.id, capacity=1)

    assert seats(auth_client, event) == (0, 0)


def test_with_the_cache_on_seats_left_is_at_most_five_seconds_behind(auth_client, settings):
    settings.API_CACHE_SECONDS = 3600
    cache.clear()
    event = make_event(capacity=10)
    first = auth_client.get("/api/events/")
    version = catalogue_version()
    assert first.json()["results"][0]["seats_left"] == 10
    max_age = int(re.search(r"max-age=(\d+)", first["Cache-Control"]).group(1))
    assert max_age <= 5

    # Through the API: no catalogue write, so no version bump tells the cache.
    assert (
        auth_client.post(
            f"/api/events/{event.id}/register/",
            {"full_name": "Ada", "email": "ada@example.com"},
            format="json",
        ).status_code
        == 201
    )
    registered_at = time.monotonic()
    assert catalogue_version() == version

    wait_until(
        lambda: seats(auth_client, event) == (9, 9), timeout=30, message="seats_left shows the registration"
    )
    # Built before the registration, a cached body lives 5 seconds at most (plus this machine's slowness).
    waited = time.monotonic() - registered_at
    assert waited <= 5 + 2


def test_a_page_without_a_capacity_costs_no_extra_statement(
    auth_client, django_assert_max_num_queries, settings
):
    settings.API_CACHE_SECONDS = 0
    make_event(capacity=None)

    with django_assert_max_num_queries(1):
        auth_client.get("/api/events/")
