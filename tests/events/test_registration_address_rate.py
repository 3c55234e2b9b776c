"""One address receives at most REGISTRATION_ADDRESS_RATE registrations (each one a
notification), whoever sends them: a limit per recipient, across accounts.

Counted from the registrations table (nothing a full cache evicts), spellings of one
mailbox together; a 429 with code `address_rate_exceeded` and Retry-After. The
simultaneous test fires real clients at a live server with its own connections.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import bearer, client_of, make_event, make_user

ADDRESS = "victim@example.com"
LIMIT = 5


def client_of_a_new_account() -> APIClient:
    return client_of(make_user())


def register(client, event, email=ADDRESS):
    return client.post(
        f"/api/events/{event.id}/register/", {"full_name": "Anyone", "email": email}, format="json"
    )


@pytest.mark.django_db
def test_an_address_gets_at_most_the_rate_across_accounts(settings):
    settings.REGISTRATION_ADDRESS_RATE = f"{LIMIT}/hour"
    events = [make_event() for _ in range(LIMIT + 2)]

    responses = [register(client_of_a_new_account(), event) for event in events]

    assert [r.status_code for r in responses] == [201] * LIMIT + [429] * 2
    refused = responses[LIMIT]
    assert refused.json()["error"]["code"] == "address_rate_exceeded"
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert refused["Cache-Control"] == "private, no-store"
    assert OutboxMessage.objects.count() == LIMIT
    assert (
        register(client_of_a_new_account(), events[-1], email="someone.else@example.com").status_code == 201
    )


@pytest.mark.django_db
def test_spellings_of_one_mailbox_count_together(settings):
    settings.REGISTRATION_ADDRESS_RATE = "2/hour"
    spellings = ["ada@bücher.de", "ADA@xn--bcher-kva.de", "ada@bu\u0308cher.de"]

    statuses = [
        register(client_of_a_new_account(), make_event(), email=email).status_code for email in spellings
    ]

    assert statuses == [201, 201, 429]


@pytest.mark.django_db
def test_registrations_older_than_the_window_do_not_count(settings):
    settings.REGISTRATION_ADDRESS_RATE = "2/hour"
    for _ in range(2):
        assert register(client_of_a_new_account(), make_event()).status_code == 201
    assert register(client_of_a_new_account(), make_event()).status_code == 429

    Registration.objects.update(created_at=timezone.now() - timedelta(minutes=61))

    assert register(client_of_a_new_account(), make_event()).status_code == 201


@pytest.mark.django_db
def test_the_default_rate_is_five_an_hour(settings):
    assert settings.REGISTRATION_ADDRESS_RATE == "5/hour"


CLIENTS = 12


@pytest.mark.django_db(transaction=True)
def test_simultaneous_registrations_to_one_address_never_exceed_the_rate(live_server, settings):
    settings.REGISTRATION_ADDRESS_RATE = f"{LIMIT}/hour"
    # Different events and accounts: the event lock does not serialise these.
    requests = [
        (f"{live_server.url}/api/events/{make_event().id}/register/", bearer(make_user()))
        for _ in range(CLIENTS)
    ]

    responses = fire_together_to(requests, {"full_name": "Anyone", "email": ADDRESS})

    assert sorted(r.status_code for r in responses) == [201] * LIMIT + [429] * (CLIENTS - LIMIT)
    assert Registration.objects.filter(email=ADDRESS).count() == LIMIT
    assert OutboxMessage.objects.count() == LIMIT


def fire_together_to(requests: list[tuple[str, str]], body: dict):
    """POST `body` to each (url, token) at once, from one thread each."""
    barrier = Barrier(len(requests))

    def post(url: str, token: str):
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(url, json=body, headers={"Authorization": token})

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda args: post(*args), requests))


@pytest.mark.django_db
def test_the_count_reads_the_address_index(auth_client):
    event = make_event()
    with CaptureQueriesContext(connection) as queries:
        assert register(auth_client, event).status_code == 201
    [sent] = [
        q["sql"] for q in queries.captured_queries if "LOWER" in q["sql"].upper() and "created_at" in q["sql"]
    ]
    # On PostgreSQL it goes with the locks, the last statement of their round trip.
    count_sql = sent.rsplit("; ", 1)[-1]
    assert count_sql.startswith("SELECT"), sent

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SET LOCAL enable_seqscan = off"
            )  # a handful of rows: make the planner show what it can use
            cursor.execute(f"EXPLAIN {count_sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {count_sql}")
        plan = " ".join(str(column) for row in cursor.fetchall() for column in row)

    assert "registration_email_recent_idx" in plan, plan
