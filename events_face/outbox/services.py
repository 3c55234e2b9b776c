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

# Rows per INSERT of `outbox_messages_create`: 13 parameters a row, well under SQLite's
# limit of 32,766 parameters a statement.
OUTBOX_INSERT_BATCH = 1000


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
    """Write many messages, (id, topic, payload) each, set-based: one INSERT of many rows
    per batch, and one NOTIFY. Returns how many.

    For writers of many messages at once (a change notice to every registrant of an
    event); the rule of `outbox_message_create` holds: inside the causing transaction.
    Every other column takes the model's default, prepared once for the whole call:
    through the ORM's `bulk_create` each row's thirteen columns were prepared anew,
    which cost more than building the messages.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_messages_create must run inside the causing transaction")
    fields = OutboxMessage._meta.concrete_fields
    per_row = {"id", "topic", "payload"}
    now = timezone.now()
    defaults = {
        field.column: field.get_db_prep_save(
            now if getattr(field, "auto_now_add", False) else field.get_default(), connection
        )
        for field in fields
        if field.name not in per_row
    }
    id_field, topic_field, payload_field = (
        OutboxMessage._meta.get_field(name) for name in ("id", "topic", "payload")
    )
    columns = [id_field.column, topic_field.column, payload_field.column, *defaults]
    quote = connection.ops.quote_name
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    constant = list(defaults.values())
    rows = [
        [
            id_field.get_db_prep_save(message_id, connection),
            topic,
            payload_field.get_db_prep_save(payload, connection),
            *constant,
        ]
        for message_id, topic, payload in messages
    ]
    if not rows:
        return 0
    insert = f"INSERT INTO {quote(OutboxMessage._meta.db_table)} ({', '.join(map(quote, columns))}) VALUES "
    with connection.cursor() as cursor:
        for start in range(0, len(rows), OUTBOX_INSERT_BATCH):
            batch = rows[start : start + OUTBOX_INSERT_BATCH]
            cursor.execute(
                insert + ", ".join([row_sql] * len(batch)), [value for row in batch for value in row]
            )
        if connection.vendor == "postgresql":
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
