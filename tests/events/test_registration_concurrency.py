"""Simultaneous registrations against a live server and a real database.

Each request runs in its own server thread with its own database connection,
so these tests exercise the lock in `registration_create` and the unique
constraint, not the test client's serialised calls.
"""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest

from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import bearer, make_event, make_user

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 12


def fire_together(url: str, requests: list[tuple[str, dict, dict]]) -> list[httpx.Response]:
    """POST every (token, body, headers) at once: all threads start at a barrier."""
    barrier = Barrier(len(requests))

    def post(token: str, body: dict, headers: dict) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(url, json=body, headers={"Authorization": token, **headers})

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda args: post(*args), requests))


def test_simultaneous_registrations_with_one_email_make_exactly_one(live_server):
    event = make_event()
    token = bearer(make_user())
    bodies = [
        {"full_name": f"Ada {i}", "email": "Ada@Example.com" if i % 2 else "ada@example.com"}
        for i in range(CLIENTS)
    ]

    responses = fire_together(
        f"{live_server.url}/api/events/{event.id}/register/", [(token, body, {}) for body in bodies]
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (CLIENTS - 1)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"already_registered"}
    assert Registration.objects.filter(event=event).count() == 1
    assert OutboxMessage.objects.count() == 1


def test_a_full_event_is_never_overbooked(live_server):
    event = make_event(capacity=5)
    token = bearer(make_user())
    bodies = [{"full_name": f"Person {i}", "email": f"person{i}@example.com"} for i in range(CLIENTS)]

    responses = fire_together(
        f"{live_server.url}/api/events/{event.id}/register/", [(token, body, {}) for body in bodies]
    )

    assert sorted(r.status_code for r in responses) == [201] * 5 + [409] * (CLIENTS - 5)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"event_full"}
    assert Registration.objects.filter(event=event).count() == 5
    assert OutboxMessage.objects.count() == 5


def test_simultaneous_repeats_with_one_idempotency_key_create_one_registration(live_server):
    event = make_event()
    token = bearer(make_user())
    body = {"full_name": "Ada Lovelace", "email": "ada@example.com"}

    responses = fire_together(
        f"{live_server.url}/api/events/{event.id}/register/",
        [(token, body, {"Idempotency-Key": "same"}) for _ in range(CLIENTS)],
    )

    assert [r.status_code for r in responses] == [201] * CLIENTS
    assert len({r.json()["id"] for r in responses}) == 1
    assert Registration.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_one_idempotency_key_sent_at_once_for_two_events_makes_one_registration(live_server):
    token = bearer(make_user())
    events = [make_event(), make_event()]
    body = {"full_name": "Ada Lovelace", "email": "ada@example.com"}
    # Different events lock different rows: only the (user, key) constraint decides.
    requests = [
        (f"{live_server.url}/api/events/{events[i % 2].id}/register/", token, body) for i in range(CLIENTS)
    ]
    barrier = Barrier(len(requests))

    def post(url: str, token: str, body: dict) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(url, json=body, headers={"Authorization": token, "Idempotency-Key": "k"})

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        responses = list(pool.map(lambda args: post(*args), requests))

    assert Registration.objects.count() == 1
    winner = Registration.objects.get()
    for response in responses:
        if response.json().get("event") == str(winner.event_id):
            assert response.status_code == 201
        else:
            assert response.status_code == 422, response.json()
            assert response.json()["error"]["code"] == "idempotency_key_reused"
