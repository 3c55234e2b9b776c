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

1. `batch_claim` takes up to `limit` due messages in ONE short transaction
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
   message whose lease has less than `3 x OUTBOX_HTTP_DEADLINE_SECONDS` left is
   released unsent, and every request ends by its total deadline,
   OUTBOX_HTTP_DEADLINE_SECONDS, whatever the service does (`integrations/http.py`:
   connect, send and the whole answer, however slowly it trickles). So a
   live worker's lease cannot expire under a request.
5. `outcomes_record` writes all outcomes of a batch in one short
   transaction. "Sent" is written whoever holds the lease (201 and 409 are
   facts); reschedules and failures only while this worker still holds it.
6. A worker that dies (SIGKILL, power loss) records nothing: its leases
   expire and the messages are claimed again, by any worker, with the same
   `id`. If the dead worker's request had been accepted, the retry gets 409
   and is marked sent.

Retrying and giving up (what `outcomes_record` writes) is in `outcomes.py`.
"""

import threading
import time
from concurrent.futures import Executor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events_face.integrations.http import SendResult
from events_face.outbox.models import OutboxMessage
from events_face.outbox.outcomes import BatchReport, outcomes_record
from events_face.outbox.senders import Senders

# A request takes at most about connect + write + read timeouts.
REQUEST_BUDGET_TIMEOUTS = 3


def request_budget_seconds() -> float:
    return REQUEST_BUDGET_TIMEOUTS * settings.OUTBOX_HTTP_DEADLINE_SECONDS


def batch_claim(*, lease_owner: str, limit: int, due_before: datetime | None = None) -> list[OutboxMessage]:
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
    messages = batch_claim(lease_owner=lease_owner, limit=limit, due_before=due_before)
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


def due_messages_deliver(**options: Any) -> BatchReport:
    """Claim one batch, send it, record the outcomes: `batch_start(**options)`, then `finish`."""
    batch = batch_start(**options)
    return batch.finish() if batch is not None else BatchReport()
