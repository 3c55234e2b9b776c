"""Check-in at the door: a confirmation code is redeemed once, by check-in staff, in its window."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from events_face.core.throttling import ScopedCacheThrottle
from events_face.events.lifecycle import registration_cancel
from events_face.events.models import Registration
from tests.support.factories import (
    client_of,
    make_check_in_staff,
    make_event,
    make_registration,
    make_staff_user,
    make_user,
)

pytestmark = pytest.mark.django_db

CHECK_IN_STAFF = "Check-in staff"


def staff_member():
    return make_check_in_staff()


@pytest.fixture
def door():
    return client_of(staff_member())


def event_soon(**fields):
    """An event starting in an hour: inside the default check-in window."""
    fields.setdefault("event_time", timezone.now() + timedelta(hours=1))
    fields.setdefault("registration_deadline", None)
    return make_event(**fields)


def scan(client, event_id, code, **headers):
    return client.post(f"/api/events/{event_id}/check-in/", {"code": code}, format="json", **headers)


def test_the_first_scan_checks_in_and_a_second_is_refused_with_the_first_time_and_the_name(door):
    registration = make_registration(event_id=event_soon().id, full_name="Ada Lovelace")

    first = scan(door, registration.event_id, registration.confirmation_code)
    second = scan(door, registration.event_id, registration.confirmation_code)

    assert first.status_code == 200
    assert first.json()["id"] == str(registration.id) and first.json()["full_name"] == "Ada Lovelace"
    assert first.json()["checked_in_at"]
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "already_checked_in"
    assert error["registration"] == first.json()
    registration.refresh_from_db()
    assert registration.checked_in_at is not None


def test_a_cancelled_registrations_code_is_refused(door):
    registration = make_registration(event_id=event_soon().id)
    registration_cancel(registration_id=registration.id, user=registration.user)

    response = scan(door, registration.event_id, registration.confirmation_code)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "registration_cancelled"


def test_an_unknown_code_or_another_events_code_is_an_invalid_code(door):
    event = event_soon()
    other = make_registration(event_id=event_soon().id)
    make_registration(event_id=event.id)

    for code in ("000000-not-a-code"[:16], other.confirmation_code):
        response = scan(door, event.id, code)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "invalid_code"


def test_a_waitlisted_person_has_no_code_to_check_in(door):
    event = event_soon(capacity=1)
    make_registration(event_id=event.id)
    waiting = make_registration(event_id=event.id, waitlist=True)

    assert waiting.status == Registration.Status.WAITLISTED and waiting.confirmation_code == ""
    response = scan(door, event.id, "")
    assert response.status_code == 400  # an empty code is bad input, not a lookup


@pytest.mark.parametrize(
    "starts_in", [timedelta(hours=25), timedelta(hours=-25)], ids=["too early", "too late"]
)
def test_outside_the_window_check_in_is_closed(door, starts_in):
    registration = make_registration(event_id=event_soon().id)
    event = registration.event
    event.event_time = timezone.now() + starts_in
    event.save()

    response = scan(door, event.id, registration.confirmation_code)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "check_in_closed"
    registration.refresh_from_db()
    assert registration.checked_in_at is None


def test_the_window_follows_its_settings(door, settings):
    registration = make_registration(event_id=event_soon().id)  # starts in an hour
    settings.CHECK_IN_OPENS_HOURS = 0.5

    assert (
        scan(door, registration.event_id, registration.confirmation_code).json()["error"]["code"]
        == "check_in_closed"
    )
    settings.CHECK_IN_OPENS_HOURS = 2
    assert scan(door, registration.event_id, registration.confirmation_code).status_code == 200


def test_only_check_in_staff_and_superusers_may_scan(api_client):
    registration = make_registration(event_id=event_soon().id)
    path_args = (registration.event_id, registration.confirmation_code)

    assert scan(api_client, *path_args).status_code == 401
    refused = scan(client_of(make_user()), *path_args)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert scan(client_of(make_staff_user()), *path_args).status_code == 200  # a superuser


def test_the_permission_alone_is_enough():
    user = make_user()
    user.user_permissions.add(Permission.objects.get(codename="check_in", content_type__app_label="events"))
    registration = make_registration(event_id=event_soon().id)

    assert scan(client_of(user), registration.event_id, registration.confirmation_code).status_code == 200


def test_a_retried_scan_with_the_same_idempotency_key_answers_its_first_success(door):
    registration = make_registration(event_id=event_soon().id)
    args = (registration.event_id, registration.confirmation_code)

    first = scan(door, *args, HTTP_IDEMPOTENCY_KEY="scan-1")
    retried = scan(door, *args, HTTP_IDEMPOTENCY_KEY="scan-1")
    another = scan(door, *args, HTTP_IDEMPOTENCY_KEY="scan-2")

    assert (first.status_code, retried.status_code) == (200, 200)
    assert retried.json() == first.json()
    assert another.status_code == 409


@pytest.mark.parametrize(
    "body",
    [{}, {"code": 482913}, {"code": None}, {"code": ["482913"]}, {"code": "4" * 200}, {"code": ""}],
    ids=["missing", "number", "null", "list", "200 characters", "empty"],
)
def test_bad_input_is_a_400_and_checks_nobody_in(door, body):
    registration = make_registration(event_id=event_soon().id)

    response = door.post(f"/api/events/{registration.event_id}/check-in/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Registration.objects.filter(checked_in_at__isnull=False).exists()


@pytest.mark.parametrize(
    "event_id", [lambda: uuid.uuid4(), lambda: "not-a-uuid"], ids=["unknown", "malformed"]
)
def test_an_unknown_event_is_a_404(door, event_id):
    response = scan(door, event_id(), "123456")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_scans_are_rate_limited_per_staff_user(door, monkeypatch):
    # DRF reads the rates once, at import: CHECK_IN_THROTTLE_RATE=3/min as the process would have it.
    monkeypatch.setitem(ScopedCacheThrottle.THROTTLE_RATES, "check_in", "3/min")
    event = event_soon()

    statuses = [scan(door, event.id, f"{n:06d}").status_code for n in range(4)]

    assert statuses == [404, 404, 404, 429]
    assert scan(client_of(staff_member()), event.id, "000009").status_code == 404  # another staff user


def test_attendance_counts_each_status_and_the_checked_in(door):
    event = event_soon(capacity=2)
    confirmed = [make_registration(event_id=event.id) for _ in range(2)]
    make_registration(event_id=event.id, waitlist=True)
    cancelled = make_registration(event_id=make_event().id)
    scan(door, event.id, confirmed[0].confirmation_code)
    registration_cancel(registration_id=confirmed[1].id, user=confirmed[1].user)  # promotes the waiting one
    del cancelled

    response = door.get(f"/api/events/{event.id}/attendance/")

    assert response.status_code == 200
    assert response.json() == {
        "capacity": 2,
        "confirmed": 2,
        "waitlisted": 0,
        "cancelled": 1,
        "checked_in": 1,
    }


def test_attendance_is_for_staff_only():
    event = event_soon()

    assert client_of(make_user()).get(f"/api/events/{event.id}/attendance/").status_code == 403
