"""The soak's proofs catch what they claim to: each fed one counter-example (no processes, no database).

`tests/test_scale_out.py` can only show the proofs holding on a healthy
deployment; these show each would fail on a broken one.
"""

import uuid
from datetime import UTC, datetime, timedelta

from events_face.events.notifications import registration_notification
from tests.support.scale_out.load import REGISTER, REGISTER_CAPACITY, Sample
from tests.support.scale_out.proofs import (
    RestartWindow,
    answers_proof,
    bookings_proof,
    notifications_proof,
    sync_proof,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
EVENT_ID = str(uuid.uuid4())


def registration(number: int, *, event_id: str = EVENT_ID, email: str | None = None) -> dict:
    return {
        "id": uuid.uuid4(), "event_id": uuid.UUID(event_id), "email": email or f"guest{number}@example.com",
        "full_name": f"Guest {number}", "confirmation_code": f"{number:06d}", "created_at": NOW,
    }  # fmt: skip


def notification_for(row: dict, settings) -> dict:
    """What the worker delivers for `row`, as the emulator keeps it."""
    settings.NOTIFICATIONS_OWNER_ID = str(uuid.uuid4())
    body = registration_notification(
        notification_id=uuid.uuid4(), email=row["email"], full_name=row["full_name"], event_name="Talk: caching",
        event_time=NOW + timedelta(days=3), confirmation_code=row["confirmation_code"], language="en",
    )  # fmt: skip
    return {**body, "accepted_at": (NOW + timedelta(seconds=1)).isoformat()}


def outbox_rows(accepted: list[dict]) -> list[dict]:
    return [{"id": uuid.UUID(n["id"]), "sent": True, "failed_at": None} for n in accepted]


def test_one_accepted_notification_per_registration_holds(settings):
    registrations = [registration(1), registration(2)]
    accepted = [notification_for(row, settings) for row in registrations]

    proof = notifications_proof(
        registrations=registrations, messages=outbox_rows(accepted), accepted=accepted
    )

    assert proof.ok, proof.details


def test_a_registration_whose_notification_never_arrived_is_lost(settings):
    registrations = [registration(1), registration(2)]
    accepted = [notification_for(registrations[0], settings)]
    messages = [*outbox_rows(accepted), {"id": uuid.uuid4(), "sent": False, "failed_at": None}]

    proof = notifications_proof(registrations=registrations, messages=messages, accepted=accepted)

    assert not proof.ok
    assert proof.details["lost"] == [str(registrations[1]["id"])]
    assert proof.details["unsent_messages"] == 1


def test_a_registration_notified_twice_under_two_ids_fails(settings):
    registrations = [registration(1)]
    accepted = [notification_for(registrations[0], settings), notification_for(registrations[0], settings)]

    proof = notifications_proof(
        registrations=registrations, messages=outbox_rows(accepted), accepted=accepted
    )

    assert not proof.ok
    assert list(proof.details["accepted_twice"]) == [str(registrations[0]["id"])]


def test_an_overbooked_event_and_a_duplicate_email_fail():
    registrations = [registration(1), registration(2), registration(3, email="Guest1@Example.com")]

    proof = bookings_proof(
        registrations=registrations, capacity_event_id=EVENT_ID, capacity=2,
        acknowledged_ids=[str(r["id"]) for r in registrations], samples=[],
    )  # fmt: skip

    assert not proof.ok
    assert proof.details["capacity_event_registrations"] == 3
    assert proof.details["duplicates"] == [f"{EVENT_ID} guest1@example.com x2"]


def test_a_registration_nobody_was_told_of_is_allowed_only_behind_a_lost_answer():
    lost_answer, answered_409 = registration(1), registration(2)
    samples = [
        Sample(REGISTER_CAPACITY, 1, 5.0, 0.1, None, "ReadError", lost_answer["email"]),
        Sample(REGISTER_CAPACITY, 0, 6.0, 0.1, 409, "event_full", answered_409["email"]),
    ]

    proof = bookings_proof(
        registrations=[lost_answer, answered_409], capacity_event_id=EVENT_ID, capacity=5,
        acknowledged_ids=[], samples=samples,
    )  # fmt: skip

    assert not proof.ok
    assert list(proof.details["stored_without_any_answer_explaining_it"]) == [str(answered_409["id"])]


def test_a_server_error_counts_against_the_run_unless_its_server_was_restarting():
    window = RestartWindow(server=1, start=10.0, end=14.0)
    during = Sample(REGISTER, 1, 12.0, 0.5, None, "ConnectError")
    other_server = Sample(REGISTER, 0, 12.0, 0.5, 500, "server_error")

    assert answers_proof(samples=[during], windows=[window], load_errors=[]).ok
    proof = answers_proof(samples=[during, other_server], windows=[window], load_errors=[])
    assert not proof.ok
    assert proof.details["failed_during_restart_count"] == 1
    assert proof.details["failed_outside_restart_count"] == 1


def test_an_answer_the_api_does_not_document_for_the_request_fails():
    refused_wrongly = Sample(REGISTER_CAPACITY, 0, 1.0, 0.1, 409, "already_registered")

    assert not answers_proof(samples=[refused_wrongly], windows=[], load_errors=[]).ok


def test_a_stored_event_that_differs_from_the_provider_fails():
    record = {
        "id": EVENT_ID, "name": "Talk: caching", "place": None, "event_time": "2026-06-01T18:00:00+03:00",
        "registration_deadline": None, "status": "published", "changed_at": "2026-05-01T15:00:00.123456+03:00",
    }  # fmt: skip
    stored = {
        "id": uuid.UUID(EVENT_ID), "name": "Talk: caching", "event_time": datetime(2026, 6, 1, 15, tzinfo=UTC),
        "registration_deadline": None, "status": "published", "venue_id": None,
        "provider_changed_at": datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
    }  # fmt: skip

    assert sync_proof(provider_records=[record], events=[stored], venues=[], mutations=1).ok
    proof = sync_proof(
        provider_records=[{**record, "status": "cancelled"}], events=[stored], venues=[], mutations=1
    )
    assert not proof.ok
    assert proof.details["differences"] == [
        f"event {EVENT_ID} status: provider 'cancelled', stored 'published'"
    ]
