"""Writing outbox messages, and putting failed ones back in the queue.

`outbox_message_create` must be called inside the transaction of the change
that causes the message: the message then commits, or rolls back, with it.
On PostgreSQL it also sends a NOTIFY on `OUTBOX_CHANNEL`, which PostgreSQL
delivers only when that transaction commits, so an idle worker wakes at once
and never for a message that was rolled back.

Delivery itself is in `delivery.py` (claiming, sending) and `outcomes.py`
(recording outcomes); who sends each topic, in `senders.py`.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from events_face.outbox.models import OutboxMessage

# LISTEN/NOTIFY channel that announces committed outbox messages.
OUTBOX_CHANNEL = "outbox_message"

# Rows per INSERT of `outbox_messages_create`: well under SQLite's parameter limit.
OUTBOX_INSERT_BATCH = 500


def outbox_message_create(
    *, topic: str, payload: dict[str, Any], message_id: uuid.UUID | None = None
) -> OutboxMessage:
    """Write a message for the sender registered for `topic` (`senders.py`) to deliver.

    The payload is stored as given. `message_id` lets the writer put the message's id
    (the idempotency key of every attempt) in the payload it shapes.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_message_create must run inside the causing transaction")
    message = OutboxMessage(id=message_id or uuid.uuid4(), topic=topic, payload=payload)
    message.save(force_insert=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Identical notifications in one transaction are folded into one.
            cursor.execute("SELECT pg_notify(%s, '')", [OUTBOX_CHANNEL])
    return message


def outbox_messages_create(messages: Iterable[tuple[uuid.UUID, str, dict[str, Any]]]) -> int:
    """Write many messages, (id, topic, payload) each, set-based: inserts in batches and one NOTIFY.

    For writers of many messages at once (a change notice to every registrant of an
    event); the rule of `outbox_message_create` holds: inside the causing transaction.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_messages_create must run inside the causing transaction")
    rows = [OutboxMessage(id=message_id, topic=topic, payload=payload) for message_id, topic, payload in messages]
    if not rows:
        return 0
    OutboxMessage.objects.bulk_create(rows, batch_size=OUTBOX_INSERT_BATCH)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [OUTBOX_CHANNEL])
    return len(rows)


def outbox_requeue_failed(*, ids: Iterable[uuid.UUID] | None = None) -> int:
    """Put failed messages (all, or those in `ids`) back in the queue, due now.

    Each starts afresh (no attempts, a whole retry horizon); `last_error` is
    kept so an operator can still see why it had failed. Returns how many were
    requeued.
    """
    failed = OutboxMessage.objects.filter(failed_at__isnull=False, sent=False)
    if ids is not None:
        failed = failed.filter(pk__in=list(ids))
    return failed.update(
        failed_at=None,
        attempts=0,
        retrying_since=None,
        next_attempt_at=timezone.now(),
        leased_until=None,
        lease_owner="",
    )
