"""Every row of the contract's response table, through real HTTP and a real database.

Contract: events_face/integrations/notifications/contract.md. Each test makes the emulator
answer one way, runs one delivery pass, and checks the row and what the
notifications service received.
"""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from events_face.launcher import free_port
from events_face.outbox.models import OutboxMessage
from tests.support.outbox import OWNER_ID, make_message

pytestmark = pytest.mark.django_db(transaction=True)


def refreshed(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


def assert_rescheduled(message: OutboxMessage, *, error: str, not_before: float = 0.0) -> None:
    row = refreshed(message)
    assert row.sent is False and row.sent_at is None
    assert row.failed_at is None
    assert row.attempts == 1
    assert row.leased_until is None and row.lease_owner == ""
    assert row.next_attempt_at >= timezone.now() + timedelta(seconds=not_before) - timedelta(seconds=1)
    assert row.next_attempt_at > timezone.now()
    assert error in row.last_error


# --- 201 Created: accepted -----------------------------------------------------------------


def test_201_marks_the_message_sent(deliver, notifications_service):
    message = make_message()

    report = deliver()

    row = refreshed(message)
    assert (report.claimed, report.sent) == (1, 1)
    assert row.sent is True and row.sent_at is not None
    assert row.leased_until is None and row.lease_owner == ""
    assert notifications_service.answers() == {"201": 1}


def test_the_request_is_the_stored_notification_with_the_configured_owner(
    deliver, delivery_settings, notifications_service
):
    message = make_message(owner_id="stale-owner-from-when-it-was-written")
    delivery_settings.NOTIFICATIONS_OWNER_ID = OWNER_ID

    deliver()

    [received] = notifications_service.accepted()
    assert received.pop("accepted_at")
    assert received == {**message.payload, "owner_id": OWNER_ID}
    assert received["id"] == str(message.id)


# --- 409 Conflict: accepted earlier ------------------------------------------------------------


def test_409_marks_the_message_sent_because_it_was_delivered_earlier(deliver, notifications_service):
    message = make_message()
    earlier = notifications_service.post({**message.payload, "owner_id": OWNER_ID})
    assert earlier.status_code == 201

    report = deliver()

    assert report.sent == 1
    assert refreshed(message).sent is True
    assert notifications_service.answers() == {"201": 1, "409": 1}
    assert notifications_service.accepted_ids() == [str(message.id)]


def test_an_answer_lost_after_acceptance_is_retried_with_the_same_id_and_409_ends_it(
    deliver, notifications_service
):
    message = make_message()
    notifications_service.set_faults(drop_rate=1.0)

    deliver()
    assert refreshed(message).sent is False

    notifications_service.set_faults(drop_rate=0.0)
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    deliver()

    assert refreshed(message).sent is True
    assert notifications_service.answers() == {"dropped": 1, "409": 1}
    assert notifications_service.accepted_ids() == [str(message.id)]


# --- 408, 425, 429, 5xx, timeout, connection error: transient ---------------------------------------------


def test_429_reschedules_no_sooner_than_retry_after(deliver, notifications_service):
    message = make_message()
    notifications_service.script({"status": 429, "headers": {"Retry-After": "120"}})

    report = deliver()

    assert (report.sent, report.retried) == (0, 1)
    assert_rescheduled(message, error="HTTP 429", not_before=120)


@pytest.mark.parametrize("status", [408, 425, 500, 502, 503, 504])
def test_408_425_and_5xx_reschedule_with_backoff(deliver, notifications_service, status):
    message = make_message()
    notifications_service.script({"status": status, "body": {"error": "down"}})

    deliver()

    assert_rescheduled(message, error=f"HTTP {status}", not_before=0.5)
    assert notifications_service.accepted() == []


def test_an_answer_later_than_the_deadline_reschedules(deliver, delivery_settings, notifications_service):
    delivery_settings.OUTBOX_HTTP_DEADLINE_SECONDS = 0.2
    message = make_message()
    notifications_service.set_faults(latency_ms=1000)

    deliver()

    assert_rescheduled(message, error="deadline")


def test_a_refused_connection_reschedules(deliver, delivery_settings):
    delivery_settings.NOTIFICATIONS_URL = f"http://127.0.0.1:{free_port()}/api/notifications"
    message = make_message()

    deliver()

    assert_rescheduled(message, error="ConnectError")


def test_a_connection_closed_without_an_answer_reschedules(deliver, notifications_service):
    message = make_message()
    notifications_service.script({"drop": True})

    deliver()

    assert_rescheduled(message, error="no answer")
    assert notifications_service.accepted() == []


def test_an_answer_outside_the_contract_is_never_taken_for_delivery(deliver, notifications_service):
    message = make_message()
    notifications_service.script({"status": 200, "body": {"ok": True}})

    deliver()

    assert_rescheduled(message, error="HTTP 200")


# --- 401, 403, 404: token or URL missing, wrong or expired ---------------------------------------------------


def test_401_keeps_the_message_reschedules_it_and_names_the_token_setting(
    deliver, delivery_settings, notifications_service, caplog
):
    # The emulator checks the real Bearer token: send a wrong one.
    delivery_settings.NOTIFICATIONS_TOKEN = "expired-token"
    message = make_message()

    with caplog.at_level(logging.ERROR):
        deliver()

    assert_rescheduled(message, error="HTTP 401")
    assert notifications_service.answers() == {"401": 1}
    assert "NOTIFICATIONS_TOKEN" in caplog.text and "401" in caplog.text


def test_403_keeps_the_message_reschedules_it_and_names_the_token_setting(
    deliver, notifications_service, caplog
):
    message = make_message()
    notifications_service.script({"status": 403, "body": {"error": "forbidden"}})

    with caplog.at_level(logging.ERROR):
        deliver()

    assert_rescheduled(message, error="HTTP 403")
    assert "NOTIFICATIONS_TOKEN" in caplog.text and "403" in caplog.text


def test_404_keeps_the_message_reschedules_it_and_names_the_url_setting(
    deliver, notifications_service, caplog
):
    # A deploy of the service that answers 404 for a moment.
    message = make_message()
    notifications_service.script({"status": 404, "body": {"error": "not found"}})

    with caplog.at_level(logging.ERROR):
        report = deliver()

    assert (report.retried, report.failed) == (1, 0)
    assert_rescheduled(message, error="HTTP 404")
    assert "NOTIFICATIONS_URL" in refreshed(message).last_error
    assert "NOTIFICATIONS_URL" in caplog.text and "404" in caplog.text
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert deliver().sent == 1
    assert notifications_service.answers() == {"404": 1, "201": 1}


def test_a_refused_token_is_reported_once_per_batch_not_once_per_message(
    deliver, delivery_settings, notifications_service, caplog
):
    delivery_settings.NOTIFICATIONS_TOKEN = "expired-token"
    messages = [make_message(index=index) for index in range(3)]

    with caplog.at_level(logging.ERROR):
        report = deliver()

    assert (report.claimed, report.retried, report.failed) == (3, 3, 0)
    [record] = [r for r in caplog.records if "NOTIFICATIONS_TOKEN" in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert "HTTP 401" in record.getMessage() and "3 message(s)" in record.getMessage()
    assert all(refreshed(message).failed_at is None for message in messages)


# --- other 4xx (400, 422, ...): the payload is rejected -------------------------------------------------------------


def test_400_fails_the_message_with_status_and_body_and_never_retries_it(deliver, notifications_service):
    message = make_message(email="not-an-email-address")

    report = deliver()
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    second = deliver()

    row = refreshed(message)
    assert (report.failed, second.claimed) == (1, 0)
    assert row.sent is False and row.sent_at is None
    assert row.failed_at is not None
    assert "HTTP 400" in row.last_error and "must be an e-mail address" in row.last_error
    assert notifications_service.answers() == {"400": 1}


@pytest.mark.parametrize("status", [405, 410, 413, 418])
def test_any_other_4xx_fails_the_message(deliver, notifications_service, status):
    message = make_message()
    notifications_service.script({"status": status, "body": {"error": "refused"}})

    report = deliver()

    row = refreshed(message)
    assert report.failed == 1
    assert row.sent is False and row.failed_at is not None
    assert row.last_error.startswith(f"rejected: HTTP {status}")


def test_422_fails_the_message(deliver, notifications_service):
    message = make_message()
    notifications_service.script({"status": 422, "body": {"error": "unprocessable owner"}})

    deliver()

    row = refreshed(message)
    assert row.sent is False and row.failed_at is not None
    assert "HTTP 422" in row.last_error and "unprocessable owner" in row.last_error
