"""Delivering outbox messages, each through the sender registered for its topic (`senders.py`).

Guarantees:

- A message is marked `sent` only when its sender's attempt was a success
  (for the notifications service: 201 or 409).
- Every attempt of a message is made with the message's own id, so a repeat
  is recognised downstream; delivery is at-least-once, effectively once.
- No message is lost: whatever happens to a worker, an unsent message is
  either leased (and due again when the lease ends), scheduled, or failed
  (kept, visible, and requeueable from the admin or `worker --requeue-failed`).

Leases and locks: the whole rule, in one place
-----------------------------------------------

1. `claim_batch` takes up to `limit` due messages in ONE short transaction
   and commits it before any request is made. On PostgreSQL the rows are
   selected `FOR UPDATE SKIP LOCKED`, so concurrent claimers skip each
   other's rows instead of waiting for them; on SQLite the transaction is
   IMMEDIATE (see settings), so claimers hold the database write lock one
   after another, for a few milliseconds each.
2. Claiming leases each message to this worker (`lease_owner`) until
   `leased_until`, and moves `next_attempt_at` to that same moment: a leased
   message is simply not due, so no other worker takes it, and the claim
   query needs no more than the `outbox_due_idx` partial index.
3. No transaction ever contains or waits for a request. Requests run on
   the executor's sender threads, which never touch the database; claims and
   outcomes run on the worker's own thread, in transactions made only of
   their own few queries (`batch_start` refuses to run inside a transaction).
   A message's request starts after its claim committed, and its outcome is
   written after the request ended. The worker claims batch N+1 and records
   batch N-1 while batch N is on the wire: those transactions touch other
   rows and last milliseconds whatever the service does.
4. A worker never starts a request that could outlive its lease: a claimed
   message whose lease has less than `3 x OUTBOX_HTTP_TIMEOUT` left is
   released unsent, and every request ends by its total deadline,
   OUTBOX_HTTP_TIMEOUT, whatever the service does (`integrations/http.py`:
   connect, send and the whole answer, however slowly it trickles). So a
   live worker's lease cannot expire under a request.
5. `outcomes_record` writes all outcomes of a batch in one short
   transaction. "Sent" is written whoever holds the lease (201 and 409 are
   facts); reschedules and failures only while this worker still holds it.
6. A worker that dies (SIGKILL, power loss) records nothing: its leases
   expire and the messages are claimed again, by any worker, with the same
   `id`. If the dead worker's request had been accepted, the retry gets 409
   and is marked sent.

Retrying and giving up
----------------------

- 429, 5xx, deadline passed, connection error, an oversized answer
  (TRANSIENT): rescheduled with capped
  exponential backoff (`retry_delay`, Retry-After honoured), until the
  message has had OUTBOX_MAX_ATTEMPTS attempts; then it is failed.
- 401, 403 (CONFIGURATION): our token is missing, wrong or expired, which says
  nothing about the message. It is rescheduled with the same backoff (the
  attempt counts in `attempts`, so the delay keeps growing up to
  OUTBOX_RETRY_MAX_SECONDS) but never failed: the attempt is also counted in
  `unauthorized_attempts`, and OUTBOX_MAX_ATTEMPTS caps only
  `attempts - unauthorized_attempts`. Each batch logs one error per status
  naming NOTIFICATIONS_TOKEN, for as long as the token is refused.
- Other 4xx, or a topic with no sender (REJECTED): failed at once, kept for
  an operator.
- `last_error` and the log hold the sender's short excerpt of the answer,
  with the message's secrets (its confirmation code) cut out.
- A failed message is requeued (admin or `worker --requeue-failed`) with both
  counters back at 0.
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events_face.integrations.http import RetryPolicy, SendResult, Verdict
from events_face.outbox.models import OutboxMessage
from events_face.outbox.senders import Senders

logger = logging.getLogger(__name__)

# A request takes at most about connect + write + read timeouts.
REQUEST_BUDGET_TIMEOUTS = 3


@dataclass(slots=True)
class BatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"outbox batch: claimed={self.claimed} sent={self.sent} retried={self.retried} "
            f"failed={self.failed} released={self.released} in {self.seconds:.2f}s"
        )


def request_budget_seconds() -> float:
    return REQUEST_BUDGET_TIMEOUTS * settings.OUTBOX_HTTP_TIMEOUT


def claim_batch(
    *, lease_owner: str, limit: int, due_before: datetime | None = None
) -> list[OutboxMessage]:
    """Lease up to `limit` due messages to `lease_owner` (rules 1 and 2 above)."""
    now = timezone.now()
    due_before = min(due_before, now) if due_before else now
    lease_end = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)  # no-op on SQLite
            .filter(sent=False, failed_at__isnull=True, next_attempt_at__lte=due_before)
            .order_by("next_attempt_at")[:limit]
        )
        if messages:
            OutboxMessage.objects.filter(pk__in=[message.pk for message in messages]).update(
                lease_owner=lease_owner,
                leased_until=lease_end,
                next_attempt_at=lease_end,
                attempts=F("attempts") + 1,
            )
    for message in messages:
        message.lease_owner = lease_owner
        message.leased_until = message.next_attempt_at = lease_end
        message.attempts += 1
    return messages


def retry_policy() -> RetryPolicy:
    """The outbox's retries, from settings: OUTBOX_MAX_ATTEMPTS counted attempts, capped backoff."""
    return RetryPolicy(
        attempts=settings.OUTBOX_MAX_ATTEMPTS,
        base_seconds=settings.OUTBOX_RETRY_BASE_SECONDS,
        max_seconds=settings.OUTBOX_RETRY_MAX_SECONDS,
    )


def retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt, after `attempts` failed ones (`RetryPolicy.delay`:
    jittered exponential backoff, Retry-After honoured, both cut to OUTBOX_RETRY_MAX_SECONDS)."""
    return retry_policy().delay(attempt=attempts, retry_after=retry_after)


def _unsuccessful_changes(message: OutboxMessage, result: SendResult, now: datetime) -> dict:
    """Field changes for an attempt that did not deliver: reschedule or fail."""
    changes: dict[str, Any] = {"leased_until": None, "lease_owner": ""}
    if result.verdict == Verdict.REJECTED:
        return {**changes, "failed_at": now, "last_error": f"rejected: {result.describe()}"}
    if result.verdict == Verdict.CONFIGURATION:
        # Our token, not this message: never failed, and not counted toward the cap.
        changes["unauthorized_attempts"] = F("unauthorized_attempts") + 1
    else:
        counted = message.attempts - message.unauthorized_attempts
        if counted >= retry_policy().attempts:
            return {
                **changes,
                "failed_at": now,
                "last_error": f"gave up after {counted} attempts: {result.describe()}",
            }
    # The backoff grows with every attempt, 401/403 included.
    delay = retry_delay(attempts=message.attempts, retry_after=result.retry_after)
    return {
        **changes,
        "next_attempt_at": now + timedelta(seconds=delay),
        "last_error": result.describe(),
    }


def outcomes_record(
    *, lease_owner: str, deliveries: Sequence[tuple[OutboxMessage, SendResult | None]]
) -> BatchReport:
    """Write what happened to each claimed message (rule 5). None = released unsent."""
    now = timezone.now()
    report = BatchReport(claimed=len(deliveries))
    delivered = [message.pk for message, result in deliveries if result and result.delivered]
    released = [message.pk for message, result in deliveries if result is None]
    leased_to_me = OutboxMessage.objects.filter(lease_owner=lease_owner, sent=False)
    with transaction.atomic():
        if delivered:
            OutboxMessage.objects.filter(pk__in=delivered, sent=False).update(
                sent=True, sent_at=now, leased_until=None, lease_owner=""
            )
        if released:
            # Not attempted: due again now, and the claim's attempt is given back.
            leased_to_me.filter(pk__in=released).update(
                next_attempt_at=now, leased_until=None, lease_owner="", attempts=F("attempts") - 1
            )
        for message, result in deliveries:
            if result is None or result.delivered:
                continue
            changes = _unsuccessful_changes(message, result, now)
            leased_to_me.filter(pk=message.pk).update(**changes)
            if "failed_at" in changes:
                report.failed += 1
                logger.error("outbox message %s failed: %s", message.pk, changes["last_error"])
            else:
                report.retried += 1
    report.sent = len(delivered)
    report.released = len(released)

    # One line per kind of refusal, however many messages it hit; the sender's
    # description names the setting to fix.
    refused = Counter(
        (message.topic, result.describe())
        for message, result in deliveries
        if result is not None and result.verdict == Verdict.CONFIGURATION
    )
    for (topic, description), count in refused.items():
        logger.error(
            "%s: our credentials were refused for %d message(s) (%s); the messages will be retried",
            topic,
            count,
            description,
        )
    return report


class InFlightBatch:
    """A claimed batch whose requests are queued on, or running in, the executor."""

    def __init__(
        self,
        *,
        full: bool,
        messages: list[OutboxMessage],
        senders: Senders,
        executor: Executor,
        lease_owner: str,
        stopping: threading.Event | None,
        claimed_at: float,
    ) -> None:
        # A full batch suggests more is due: claim the next one right away.
        self.full = full
        self.messages = messages
        self.lease_owner = lease_owner
        self.claimed_at = claimed_at
        # Rule 4: the last moment a request may start and still end inside the lease.
        last_start = claimed_at + settings.OUTBOX_LEASE_SECONDS - request_budget_seconds()

        def send(message: OutboxMessage) -> SendResult | None:
            if (stopping is not None and stopping.is_set()) or time.monotonic() > last_start:
                return None
            return senders.send(topic=message.topic, message_id=message.id, payload=message.payload)

        self.futures = [executor.submit(send, message) for message in messages]

    def finish(self) -> BatchReport:
        """Wait for every request of the batch, then record the outcomes."""
        results = [future.result() for future in self.futures]
        report = outcomes_record(
            lease_owner=self.lease_owner, deliveries=list(zip(self.messages, results, strict=True))
        )
        report.seconds = time.monotonic() - self.claimed_at
        return report


def batch_start(
    *,
    senders: Senders,
    executor: Executor,
    lease_owner: str,
    limit: int,
    stopping: threading.Event | None = None,
    due_before: datetime | None = None,
) -> InFlightBatch | None:
    """Claim a batch and queue its requests on the executor; None if nothing is due.

    The executor's threads bound the requests in flight and never touch the
    database; the caller's thread runs the transactions (rule 3). Once
    `stopping` is set, no new request starts: queued messages are released.
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("deliveries make HTTP requests: never start one in a transaction")
    claimed_at = time.monotonic()
    messages = claim_batch(lease_owner=lease_owner, limit=limit, due_before=due_before)
    if not messages:
        return None
    return InFlightBatch(
        full=len(messages) >= limit,
        messages=messages,
        senders=senders,
        executor=executor,
        lease_owner=lease_owner,
        stopping=stopping,
        claimed_at=claimed_at,
    )


def deliver_due_messages(
    *,
    senders: Senders,
    executor: Executor,
    lease_owner: str,
    limit: int,
    stopping: threading.Event | None = None,
    due_before: datetime | None = None,
) -> BatchReport:
    """Claim one batch, send it, record the outcomes: `batch_start` then `finish`."""
    batch = batch_start(
        senders=senders,
        executor=executor,
        lease_owner=lease_owner,
        limit=limit,
        stopping=stopping,
        due_before=due_before,
    )
    return batch.finish() if batch is not None else BatchReport()
