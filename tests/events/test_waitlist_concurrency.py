"""The waiting list under many simultaneous clients against a live server, on both databases.

Registrations with and without `waitlist`, double cancellations and capacity
raises are fired at once; afterwards every invariant of events/lifecycle.py
is checked on what the database holds (tests/support/waitlist.py). A client
told 503 `busy` retries after Retry-After, as a real one would.
"""

import random
import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from django.db import connection

from events_face.events.lifecycle import event_capacity_set
from events_face.events.models import Registration
from tests.support.factories import bearer, make_event, make_user
from tests.support.waitlist import assert_waitlist_invariants

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 24
BUSY_RETRIES = 20


def post(client: httpx.Client, url: str, token: str, body: dict | None = None) -> httpx.Response:
    for _attempt in range(BUSY_RETRIES):
        response = client.post(url, json=body, headers={"Authorization": token})
        if response.status_code != 503:
            return response
        assert response.json()["error"]["code"] == "busy"
        time.sleep(float(response.headers["Retry-After"]) * random.random())
    return response


def run_together(tasks) -> list:
    """Run every callable at once: all threads start at a barrier."""
    barrier = Barrier(len(tasks))

    def run(task):
        barrier.wait()
        try:
            return task()
        finally:
            connection.close()  # the thread's own connection, if it opened one

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def test_registrations_cancellations_and_capacity_changes_at_once_keep_every_invariant(live_server):
    events = [make_event(capacity=3), make_event(capacity=2)]
    users = [make_user() for _ in range(CLIENTS)]
    tokens = [bearer(user) for user in users]
    rng = random.Random(7)

    def register(index: int, event, waitlist: bool):
        def task():
            with httpx.Client(timeout=60) as client:
                return post(
                    client,
                    f"{live_server.url}/api/events/{event.id}/register/",
                    tokens[index],
                    {
                        "full_name": f"Person {index}",
                        "email": f"person{index}@example.com",
                        "waitlist": waitlist,
                    },
                )

        return task

    def raise_capacity(event, capacity):
        return lambda: event_capacity_set(event_id=event.id, capacity=capacity)

    # Wave 1: everyone registers for one of the two events, most asking for the waiting list.
    wave = [register(i, events[i % 2], waitlist=rng.random() < 0.75) for i in range(CLIENTS)]
    wave += [raise_capacity(events[0], 5)]
    first = run_together(wave)[:CLIENTS]

    assert {r.status_code for r in first} <= {201, 409}
    assert {r.json()["error"]["code"] for r in first if r.status_code == 409} <= {"event_full"}
    made = [r.json() for r in first if r.status_code == 201]
    assert {r["status"] for r in made} <= {"confirmed", "waitlisted"}
    for event in events:
        assert_waitlist_invariants(event.id)

    # Wave 2: a third of them cancel, each sending its cancellation twice at once; others
    # register again (a cancelled one may), the capacity rises or is cleared meanwhile.
    cancelling = [r for r in made if rng.random() < 0.4]
    owner = {str(r["id"]): int(r["email"].removeprefix("person").split("@")[0]) for r in made}

    def cancel(registration_id: str):
        def task():
            with httpx.Client(timeout=60) as client:
                return post(
                    client,
                    f"{live_server.url}/api/registrations/{registration_id}/cancel/",
                    tokens[owner[registration_id]],
                )

        return task

    wave = [cancel(r["id"]) for r in cancelling for _twice in range(2)]
    event_of = {str(event.id): event for event in events}
    wave += [register(owner[r["id"]], event_of[r["event"]], waitlist=True) for r in cancelling[:3]]
    wave += [raise_capacity(events[1], 4), raise_capacity(events[0], None)]
    second = run_together(wave)

    cancellations = second[: 2 * len(cancelling)]
    assert [r.status_code for r in cancellations] == [200] * len(cancellations)
    for one, other in zip(cancellations[::2], cancellations[1::2], strict=True):
        assert one.json() == other.json()
        assert one.json()["status"] == "cancelled"
    counts = [assert_waitlist_invariants(event.id) for event in events]
    assert Registration.objects.filter(status="cancelled").count() == len(cancelling)
    # The capacity of the first is now unlimited: nobody waits for it.
    assert counts[0]["waitlisted"] == 0


def test_simultaneous_joins_get_positions_one_to_k(live_server):
    event = make_event(capacity=1)
    users = [make_user() for _ in range(CLIENTS)]

    def join(index: int):
        def task():
            with httpx.Client(timeout=60) as client:
                return post(
                    client,
                    f"{live_server.url}/api/events/{event.id}/register/",
                    bearer(users[index]),
                    {"full_name": f"P {index}", "email": f"p{index}@example.com", "waitlist": True},
                )

        return task

    responses = run_together([join(i) for i in range(CLIENTS)])

    assert [r.status_code for r in responses] == [201] * CLIENTS
    positions = sorted(r.json()["waitlist_position"] for r in responses if r.json()["status"] == "waitlisted")
    assert positions == list(range(1, CLIENTS))
    assert_waitlist_invariants(event.id)
