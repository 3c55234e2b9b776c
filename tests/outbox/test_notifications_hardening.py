"""Delivery against a notifications service that misbehaves on purpose (a fake server on 127.0.0.1).

Each test is one defect of issue 8: an answer trickled past the deadline (which
broke the lease rule), an answer too large to hold, and a confirmation code
echoed back into `last_error` and the logs.
"""

import json
import logging
import time
from collections import Counter

import pytest

from events_face.outbox.models import OutboxMessage
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.outbox import make_message, make_messages, worker_env
from tests.support.polling import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def refreshed(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


def trickled_201(request) -> Answer:
    # Headers at once, then ~10 s of body, each byte well within any read timeout.
    return Answer(status=201, body=b'{"status": "accepted"}' + b" " * 30, trickle_seconds=0.2)


# --- 3. a total deadline; the lease rule holds -------------------------------------------------------


def test_an_answer_trickled_past_the_deadline_is_retried_not_taken_for_delivery(deliver, delivery_settings):
    with FakeUpstream(trickled_201) as service:
        delivery_settings.NOTIFICATIONS_URL = service.url("/api/notifications")
        delivery_settings.OUTBOX_HTTP_DEADLINE_SECONDS = 1.0
        message = make_message()

        report = deliver()

    row = refreshed(message)
    assert (report.sent, report.retried) == (0, 1)
    assert row.sent is False and row.failed_at is None
    assert "deadline" in row.last_error


def test_two_workers_against_a_trickling_service_post_each_message_once(workers):
    """A lease (4 s) must not expire under a request: the deadline (1 s) ends it first.
    Before the deadline, the second worker re-sent every message whose lease ran out."""
    with FakeUpstream(lambda request: Answer(status=201, body=b" " * 600, trickle_seconds=0.1)) as service:
        messages = make_messages(4)
        env = worker_env(
            service.url("/api/notifications"),
            OUTBOX_HTTP_DEADLINE_SECONDS="1",
            OUTBOX_LEASE_SECONDS="4",
            # Retried no sooner than 5 minutes: any second POST here would be a lease broken.
            OUTBOX_RETRY_BASE_SECONDS="600",
            OUTBOX_RETRY_MAX_SECONDS="600",
        )
        for _ in range(2):
            workers.start(env)

        def every_outcome_recorded() -> bool:
            rows = OutboxMessage.objects.filter(pk__in=[m.pk for m in messages])
            return all(row.attempts == 1 and row.leased_until is None for row in rows)

        wait_until(every_outcome_recorded, timeout=90, message="each request ended and was recorded")
        # Two lease lengths more: a lease that expired under a request would show by then.
        time.sleep(8)
        posted = Counter(json.loads(request.body)["id"] for request in service.requests)

    assert posted == {str(message.id): 1 for message in messages}
    for message in messages:
        row = refreshed(message)
        assert row.sent is False and "deadline" in row.last_error


# --- 4. a capped answer --------------------------------------------------------------------------------------


def test_an_answer_larger_than_the_cap_is_retried_and_not_read_whole(deliver, delivery_settings):
    huge = Answer(status=201, body=b" " * (1024 * 1024), repeat=64, declare_length=False)  # 64 MiB
    with FakeUpstream(lambda request: huge) as service:
        delivery_settings.NOTIFICATIONS_URL = service.url("/api/notifications")
        message = make_message()

        deliver()

    row = refreshed(message)
    assert row.sent is False and row.failed_at is None
    assert "8,192" in row.last_error and "stopped reading" in row.last_error
    assert service.bytes_sent < 64 * 1024 * 1024, "the client hung up at the cap"


# --- 6. no confirmation code in last_error or the logs --------------------------------------------------------


@pytest.mark.parametrize("status", [500, 400])
def test_an_echoed_request_never_puts_the_confirmation_code_in_last_error_or_the_log(
    deliver, delivery_settings, caplog, status
):
    def echo(request) -> Answer:
        return Answer(status=status, body=b'{"error": "bad", "you sent": ' + request.body + b"}")

    with FakeUpstream(echo) as service:
        delivery_settings.NOTIFICATIONS_URL = service.url("/api/notifications")
        message = make_message(index=482913)  # its code: 482913
        assert "482913" in message.payload["message"]

        with caplog.at_level(logging.INFO):
            deliver()

    row = refreshed(message)
    assert f"HTTP {status}" in row.last_error
    assert "482913" not in row.last_error and "482913" not in caplog.text
    assert len(row.last_error) < 300
    if status == 400:
        assert row.failed_at is not None and "failed" in caplog.text
