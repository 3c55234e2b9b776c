"""Giving up: passing trouble is retried for OUTBOX_RETRY_HORIZON_HOURS, a wrong setting forever.

Real emulator over HTTP, real database. Time is simulated, not slept: `clock_advances`
moves every time stored on a message's row into the past, as if the clock had run on.
"""

import logging
import time

import pytest

from events_face.outbox.models import OutboxMessage
from events_face.outbox.services import outbox_requeue_failed
from tests.support.outbox import clock_advances, make_message

pytestmark = pytest.mark.django_db(transaction=True)

HOUR = 3600.0


@pytest.fixture
def default_backoff(delivery_settings):
    """The shipped retry settings: 1 s doubling to at most an hour, for 72 hours."""
    delivery_settings.OUTBOX_RETRY_BASE_SECONDS = 1.0
    delivery_settings.OUTBOX_RETRY_MAX_SECONDS = 3600.0
    delivery_settings.OUTBOX_RETRY_HORIZON_HOURS = 72.0
    return delivery_settings


def refreshed(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


def test_500s_for_days_keep_the_message_until_the_horizon_then_fail_it(
    deliver, default_backoff, notifications_service
):
    message = make_message()
    notifications_service.set_faults(fail_rate=1.0)

    failing_for = 0.0  # simulated seconds since the first 500
    started = time.monotonic()
    while not deliver().failed:
        assert refreshed(message).failed_at is None
        failing_for += clock_advances(message)
        assert failing_for < 80 * HOUR, "still retried long after the horizon"

    # The stretch the worker saw: the simulated time, and the few real seconds the test took.
    failing_for += time.monotonic() - started
    row = refreshed(message)
    assert failing_for >= 72 * HOUR, (
        f"failed after {failing_for / HOUR:.1f} h of 500s, before the 72 h horizon"
    )
    # The attempt that failed it is the first after the horizon: at most one capped backoff later.
    assert failing_for < 73 * HOUR
    assert row.sent is False and row.failed_at is not None
    assert row.attempts > 40  # the old budget was 20 attempts, about 7 hours
    assert row.last_error.startswith("gave up after 72.")
    assert "OUTBOX_RETRY_HORIZON_HOURS" in row.last_error and "HTTP 500" in row.last_error
    assert notifications_service.answers() == {"500": row.attempts}


def test_the_horizon_counts_from_the_first_failure_not_from_the_registration(
    deliver, default_backoff, notifications_service
):
    # Written four days ago, while no worker ran: the service's first 500 starts the clock.
    message = make_message()
    clock_advances(message, seconds=96 * HOUR)
    notifications_service.set_faults(fail_rate=1.0)

    report = deliver()
    clock_advances(message, seconds=71 * HOUR)
    again = deliver()

    assert (report.retried, again.retried, again.failed) == (1, 1, 0)
    assert refreshed(message).failed_at is None
    clock_advances(message, seconds=2 * HOUR)
    assert deliver().failed == 1


@pytest.mark.parametrize("status", [408, 425, 429, 503])
def test_every_kind_of_passing_trouble_fails_a_message_only_after_the_horizon(
    deliver, default_backoff, notifications_service, status
):
    message = make_message()
    notifications_service.script(*[{"status": status, "body": {"error": "later"}}] * 3)

    deliver()
    clock_advances(message, seconds=71 * HOUR)
    before = deliver()
    clock_advances(message, seconds=2 * HOUR)
    after = deliver()

    assert (before.retried, before.failed, after.failed) == (1, 0, 1)
    assert f"HTTP {status}" in refreshed(message).last_error


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_wrong_setting_never_fails_a_message_however_long_it_lasts(
    deliver, default_backoff, notifications_service, status
):
    message = make_message()
    notifications_service.set_faults(fail_rate=1.0)
    deliver()  # a 500 starts the clock
    notifications_service.set_faults(fail_rate=0.0)

    notifications_service.script(*[{"status": status, "body": {"error": "ours"}}] * 3)
    reports = []
    for _ in range(3):
        clock_advances(message, seconds=40 * HOUR)
        reports.append(deliver())

    row = refreshed(message)
    assert [(report.retried, report.failed) for report in reports] == [(1, 0)] * 3
    assert row.sent is False and row.failed_at is None
    assert f"HTTP {status}" in row.last_error
    # Fixed: delivered on the next attempt, 120 hours after the first 500.
    clock_advances(message)
    assert deliver().sent == 1
    assert notifications_service.accepted_ids() == [str(message.id)]


def test_a_wrong_setting_ends_a_stretch_of_passing_trouble(deliver, default_backoff, notifications_service):
    # 71 hours of 500s, a 404 (a deploy, or NOTIFICATIONS_URL being fixed), then 500s again:
    # the message waited on us, not on the service, so the horizon starts over.
    message = make_message()
    notifications_service.script(
        {"status": 500}, {"status": 500}, {"status": 404}, {"status": 500}, {"status": 500}
    )
    deliver()
    clock_advances(message, seconds=71 * HOUR)
    deliver()
    clock_advances(message, seconds=HOUR)
    deliver()
    clock_advances(message, seconds=HOUR)
    deliver()
    clock_advances(message, seconds=71 * HOUR)

    assert deliver().failed == 0
    assert refreshed(message).failed_at is None


def test_404_is_reported_once_per_batch_naming_NOTIFICATIONS_URL(
    deliver, default_backoff, notifications_service, caplog
):
    # A typo in the path: the emulator itself answers 404 there.
    default_backoff.NOTIFICATIONS_URL = notifications_service.url + "s"
    messages = [make_message(index) for index in range(3)]

    for _ in range(3):
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            report = deliver()
        assert (report.claimed, report.retried, report.failed) == (3, 3, 0)
        [line] = [r.getMessage() for r in caplog.records if "NOTIFICATIONS_URL" in r.getMessage()]
        assert "HTTP 404" in line and "3 message(s)" in line
        clock_advances(*messages, seconds=73 * HOUR)

    assert OutboxMessage.objects.filter(failed_at__isnull=False).count() == 0
    default_backoff.NOTIFICATIONS_URL = notifications_service.url
    clock_advances(*messages)
    assert deliver().sent == 3


def test_a_requeued_message_gets_a_fresh_horizon(deliver, default_backoff, notifications_service):
    message = make_message()
    notifications_service.set_faults(fail_rate=1.0)
    deliver()
    clock_advances(message, seconds=73 * HOUR)
    assert deliver().failed == 1

    assert outbox_requeue_failed() == 1
    report = deliver()

    row = refreshed(message)
    assert (report.retried, report.failed) == (1, 0)
    assert row.failed_at is None and row.attempts == 1
