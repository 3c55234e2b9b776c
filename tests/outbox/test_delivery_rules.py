"""Leases, retries, giving up, requeueing and the operator's numbers, on a real
database and through real HTTP to the emulator."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events_face.integrations.http import SendResult, Verdict, parse_retry_after
from events_face.outbox.delivery import batch_claim
from events_face.outbox.models import OutboxMessage
from events_face.outbox.outcomes import outcomes_record, retry_delay
from events_face.outbox.selectors import outbox_stats
from events_face.outbox.services import outbox_requeue_failed
from tests.support.outbox import make_message, make_messages

transactional = pytest.mark.django_db(transaction=True)


def expire_lease(message: OutboxMessage) -> None:
    """What the clock does to the lease of a worker that died."""
    past = timezone.now() - timedelta(seconds=1)
    OutboxMessage.objects.filter(pk=message.pk).update(leased_until=past, next_attempt_at=past)


# --- leases ---------------------------------------------------------------------------------------


@transactional
def test_a_claimed_message_is_not_claimed_again_while_its_lease_lasts(delivery_settings):
    make_messages(3)

    first = batch_claim(lease_owner="a", limit=10)
    second = batch_claim(lease_owner="b", limit=10)

    assert len(first) == 3 and second == []
    row = OutboxMessage.objects.get(pk=first[0].pk)
    assert row.lease_owner == "a" and row.attempts == 1
    assert row.leased_until == row.next_attempt_at > timezone.now()


@transactional
def test_a_claim_takes_at_most_the_limit_oldest_due_first(delivery_settings):
    messages = make_messages(5)
    now = timezone.now()
    for minutes, message in enumerate(messages):
        OutboxMessage.objects.filter(pk=message.pk).update(
            next_attempt_at=now - timedelta(minutes=10 - minutes)
        )
    OutboxMessage.objects.filter(pk=messages[0].pk).update(next_attempt_at=now + timedelta(hours=1))

    claimed = batch_claim(lease_owner="a", limit=2)

    assert [m.pk for m in claimed] == [messages[1].pk, messages[2].pk]


@transactional
def test_after_a_dead_workers_lease_expires_the_message_is_sent_again_with_the_same_id(
    deliver, notifications_service
):
    message = make_message()
    [claimed] = batch_claim(lease_owner="killed-worker", limit=10)  # and then it died
    assert deliver().claimed == 0

    expire_lease(claimed)
    report = deliver()

    assert report.sent == 1
    row = OutboxMessage.objects.get(pk=message.pk)
    assert row.sent is True and row.attempts == 2
    assert notifications_service.accepted_ids() == [str(message.id)]


@transactional
def test_a_worker_that_lost_its_lease_does_not_reschedule_over_the_new_owner(delivery_settings):
    message = make_message()
    [slow] = batch_claim(lease_owner="slow", limit=1)
    expire_lease(slow)
    batch_claim(lease_owner="fast", limit=1)

    outcomes_record(lease_owner="slow", deliveries=[(slow, SendResult(Verdict.TRANSIENT, status=503))])

    row = OutboxMessage.objects.get(pk=message.pk)
    assert row.lease_owner == "fast" and row.leased_until is not None
    assert row.last_error == ""


@transactional
def test_a_201_is_recorded_even_by_a_worker_whose_lease_expired(delivery_settings):
    message = make_message()
    [slow] = batch_claim(lease_owner="slow", limit=1)
    expire_lease(slow)
    batch_claim(lease_owner="fast", limit=1)

    outcomes_record(lease_owner="slow", deliveries=[(slow, SendResult(Verdict.SUCCESS, status=201))])

    assert OutboxMessage.objects.get(pk=message.pk).sent is True


@transactional
def test_a_stopping_worker_releases_what_it_has_not_sent(deliver, notifications_service):
    messages = make_messages(5)
    stopping = threading.Event()
    stopping.set()

    report = deliver(stopping=stopping)

    assert (report.claimed, report.released, report.sent) == (5, 5, 0)
    assert notifications_service.accepted() == []
    for row in OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]):
        assert row.attempts == 0 and row.leased_until is None and row.lease_owner == ""
        assert row.next_attempt_at <= timezone.now()


@transactional
def test_no_request_starts_that_could_outlive_its_lease(deliver, delivery_settings, notifications_service):
    # A lease shorter than the request budget: nothing may be sent under it.
    delivery_settings.OUTBOX_LEASE_SECONDS = 5
    delivery_settings.OUTBOX_HTTP_DEADLINE_SECONDS = 2.0
    make_message()

    report = deliver()

    assert (report.released, report.sent) == (1, 0)
    assert notifications_service.answers() == {}


@pytest.mark.django_db
def test_delivery_refuses_to_run_inside_a_transaction(deliver):
    with transaction.atomic(), pytest.raises(RuntimeError, match="transaction"):
        deliver()


# --- giving up and requeueing ------------------------------------------------------------------------


@transactional
def test_a_requeued_failed_message_is_delivered(deliver, notifications_service):
    message = make_message()
    notifications_service.script({"status": 422, "body": {"error": "not today"}})
    deliver()
    assert OutboxMessage.objects.get(pk=message.pk).failed_at is not None

    assert outbox_requeue_failed() == 1
    report = deliver()

    row = OutboxMessage.objects.get(pk=message.pk)
    assert report.sent == 1 and row.sent is True and row.failed_at is None
    assert notifications_service.accepted_ids() == [str(message.id)]


@transactional
def test_requeueing_starts_the_attempts_and_the_retry_horizon_afresh(delivery_settings):
    message = make_message()
    long_ago = timezone.now() - timedelta(days=4)
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=70, retrying_since=long_ago, failed_at=timezone.now()
    )

    assert outbox_requeue_failed() == 1

    row = OutboxMessage.objects.get(pk=message.pk)
    assert (row.attempts, row.retrying_since, row.failed_at) == (0, None, None)


@transactional
def test_the_admin_action_requeues_the_selected_failed_messages(admin_client, delivery_settings):
    failed, other_failed = make_messages(2)
    OutboxMessage.objects.update(failed_at=timezone.now(), attempts=20)

    response = admin_client.post(
        "/admin/outbox/outboxmessage/",
        {"action": "requeue_failed", "_selected_action": [str(failed.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 failed message(s) put back in the queue" in response.content.decode()
    requeued = OutboxMessage.objects.get(pk=failed.pk)
    assert requeued.failed_at is None and requeued.attempts == 0
    assert OutboxMessage.objects.get(pk=other_failed.pk).failed_at is not None


# --- retry timing -------------------------------------------------------------------------------------


def test_retry_delay_doubles_with_each_attempt_within_its_jitter(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 1.0
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    random.seed(1)
    for attempts in range(1, 8):
        backoff = 2 ** (attempts - 1)
        delays = [retry_delay(attempts=attempts) for _ in range(50)]
        assert all(backoff / 2 <= delay <= backoff for delay in delays)
        assert len(set(delays)) > 1  # jittered, so many messages do not retry in step


def test_retry_delay_is_capped(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 1.0
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    assert retry_delay(attempts=40) <= 3600
    assert retry_delay(attempts=10_000) <= 3600
    assert retry_delay(attempts=3, retry_after=86_400) == 3600


def test_retry_delay_honours_retry_after(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 1.0
    assert retry_delay(attempts=1, retry_after=90) == 90


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480) == 30
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# --- the operator's numbers ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_outbox_stats_counts_pending_and_failed_and_ages_the_oldest_pending(delivery_settings):
    oldest, pending, failed, sent = make_messages(4)
    now = timezone.now()
    OutboxMessage.objects.filter(pk=oldest.pk).update(created_at=now - timedelta(minutes=5))
    OutboxMessage.objects.filter(pk=failed.pk).update(failed_at=now, created_at=now - timedelta(hours=1))
    OutboxMessage.objects.filter(pk=sent.pk).update(
        sent=True, sent_at=now, created_at=now - timedelta(hours=2)
    )

    stats = outbox_stats(now=now)

    assert (stats.pending, stats.failed) == (2, 1)
    assert stats.oldest_pending_age_seconds == pytest.approx(300, abs=1)


@pytest.mark.django_db
def test_outbox_stats_of_an_empty_queue():
    stats = outbox_stats()
    assert (stats.pending, stats.failed, stats.oldest_pending_age_seconds) == (0, 0, None)
