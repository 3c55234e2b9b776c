"""Writing outbox messages, and putting failed ones back in the queue.

`outbox_message_create` must be called inside the transaction of the change
that causes the message: the message then commits, or rolls back, with it.
On PostgreSQL it also sends a NOTIFY on `OUTBOX_CHANNEL`, which PostgreSQL
delivers only when that transaction commits, so an idle worker wakes at once
and never for a message that was rolled back.

Delivery itself is in `delivery.py` (claiming, sending) and `outcomes.py`
(recording outcomes); who sends each topic, in `senders.py`.
"""

import functools
import itertools
import json
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
# Rows per INSERT on PostgreSQL, where they go as arrays.
OUTBOX_UNNEST_BATCH = 5000


def outbox_message_create(
    *,
    topic: str,
    payload: dict[str, Any],
    message_id: uuid.UUID | None = None,
    preceded_by: tuple[str, list] | None = None,
) -> OutboxMessage:
    """Write a message for the sender registered for `topic` (`senders.py`) to deliver.

    The payload is stored as given. `message_id` lets the writer put the message's id
    (the idempotency key of every attempt) in the payload it shapes. Written as
    `outbox_messages_create` writes many: on PostgreSQL the row and the NOTIFY are one
    round trip. `preceded_by`, the causing change's own statement (SQL with `%s`
    parameters, and the parameters; no rows returned), runs first, in that same round
    trip on PostgreSQL; its errors are the caller's to handle.
    """
    message = OutboxMessage(
        id=message_id or uuid.uuid4(), topic=topic, payload=payload, created_at=timezone.now()
    )
    connection = _causing_transaction()
    _rows_insert(connection, [(message.id, topic, payload)], template=message, preceded_by=preceded_by)
    message._state.adding = False
    message._state.db = connection.alias
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
    connection = _causing_transaction()
    messages = list(messages)
    if messages:
        _rows_insert(connection, messages, template=OutboxMessage(created_at=timezone.now()))
    return len(messages)


def _causing_transaction():
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError(
            "outbox messages are written inside the transaction of the change that causes them"
        )
    return connection


# (id, topic, payload, every other column): what `_rows_insert` writes, in its order.
_MESSAGE_FIELDS = (
    *(OutboxMessage._meta.get_field(name) for name in ("id", "topic", "payload")),
    [field for field in OutboxMessage._meta.concrete_fields if field.name not in ("id", "topic", "payload")],
)


@functools.cache
def _insert_sql(connection) -> tuple[str, str]:
    """`INSERT INTO outbox (columns)` in `_MESSAGE_FIELDS`' order, and on PostgreSQL the `SELECT`
    of its rows from three arrays (ids, topics, payloads), every other column a parameter."""
    id_field, topic_field, payload_field, others = _MESSAGE_FIELDS
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in [id_field, topic_field, payload_field, *others])
    insert = f"INSERT INTO {quote(OutboxMessage._meta.db_table)} ({columns}) "
    if connection.vendor != "postgresql":
        return insert, ""
    types = [f"%s::{field.db_type(connection)}" for field in others]
    select = (
        f"SELECT batch.id, batch.topic, batch.payload::jsonb, {', '.join(types)} "
        f"FROM unnest(%s::{id_field.db_type(connection)}[], %s::{topic_field.db_type(connection)}[], %s::text[]) "
        "AS batch(id, topic, payload)"
    )
    return insert, select


def _rows_insert(
    connection,
    messages: list[tuple[uuid.UUID, str, dict[str, Any]]],
    *,
    template: OutboxMessage,
    preceded_by: tuple[str, list] | None = None,
):
    """INSERT the (id, topic, payload) rows, every other column as `template` holds it; NOTIFY on PostgreSQL.
    `preceded_by` runs first (with the first batch on PostgreSQL, as one string: client-side binding
    sends it as one query).

    On PostgreSQL the rows go as three arrays (ids, topics, payloads) that the server
    unnests: three parameters a batch instead of one a value, whose parsing by psycopg
    cost more than the database's work (0.14 ms a message). The NOTIFY rides on the
    last batch's statement. SQLite has no arrays: there a batch is one multi-row VALUES.
    """
    id_field, topic_field, payload_field, others = _MESSAGE_FIELDS
    constant = [field.get_db_prep_save(getattr(template, field.attname), connection) for field in others]
    insert, select = _insert_sql(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            batches = list(itertools.batched(messages, OUTBOX_UNNEST_BATCH))
            for number, batch in enumerate(batches, start=1):
                ids, topics, payloads = zip(*batch, strict=True)
                texts = [json.dumps(payload, cls=payload_field.encoder) for payload in payloads]
                statement, params = insert + select, [*constant, list(ids), list(topics), texts]
                if number == len(batches):
                    # Identical notifications in one transaction are folded into one.
                    statement = f"WITH inserted AS ({statement}) SELECT pg_notify(%s, '')"
                    params.append(OUTBOX_CHANNEL)
                if number == 1 and preceded_by is not None:
                    statement, params = f"{preceded_by[0]}; {statement}", [*preceded_by[1], *params]
                cursor.execute(statement, params)
        else:
            if preceded_by is not None:
                cursor.execute(*preceded_by)
            row_sql = "(" + ", ".join(["%s"] * (3 + len(others))) + ")"
            for batch in itertools.batched(messages, OUTBOX_INSERT_BATCH):
                values = []
                for message_id, topic, payload in batch:
                    values += [
                        id_field.get_db_prep_save(message_id, connection),
                        topic,
                        payload_field.get_db_prep_save(payload, connection),
                        *constant,
                    ]
                cursor.execute(insert + "VALUES " + ", ".join([row_sql] * len(batch)), values)


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
