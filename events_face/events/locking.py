"""The one lock behind every registration guarantee: the event's row, taken first, waited for a bounded time.

Every write that changes who holds a seat or a place in the queue (registering,
joining the waiting list, cancelling, promotion, a capacity change) runs in
`event_locked`: a transaction that locks the event row before anything else
(`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite every write transaction is
`BEGIN IMMEDIATE`, which takes the database's write lock at once). Writes for
one event therefore run one after another, and the counts they read (seats
taken, the waiting list) are current when they act on them.

The wait is bounded (REGISTRATION_LOCK_TIMEOUT_SECONDS: `lock_timeout` on
PostgreSQL, the busy timeout on SQLite; `core/db.py`): past it the caller gets
`EventBusy` (503 `busy` with Retry-After), and nothing was written, since the
transaction is rolled back.
"""

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, connections, transaction

from events_face.core.db import (
    execute_with_local_settings,
    instance_from_row,
    is_lock_timeout,
    lock_timeout,
    lock_wait_limited,
)
from events_face.events.errors import EventBusy, EventNotFound, event_id_parse
from events_face.events.models import Event


@functools.cache
def _event_lock_sql(vendor: str) -> str:
    """`SELECT <every column>` of one event, `FOR UPDATE` on PostgreSQL; names from the model."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in Event._meta.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(Event._meta.db_table)} WHERE {quote(Event._meta.pk.column)} = %(id)s"
    return f"{sql} FOR UPDATE" if vendor == "postgresql" else sql


def _event_row_lock(event_id: uuid.UUID, *, seconds: float) -> Event | None:
    """The event's row, locked, as plain SQL: through the ORM, building the query cost more
    than the database's work. On PostgreSQL the lock timeout and the lock go in one round
    trip; on SQLite the transaction's BEGIN IMMEDIATE holds the lock already."""
    params = {"id": Event._meta.pk.get_db_prep_value(event_id, connection)}
    with connection.cursor() as cursor:
        execute_with_local_settings(
            cursor,
            _event_lock_sql(connection.vendor),
            params,
            settings=lock_timeout(seconds=seconds),
            lasting=True,
        )
        row = cursor.fetchone()
    return None if row is None else instance_from_row(Event, row, connections[connection.alias])


@contextmanager
def event_locked(*, event_id: uuid.UUID | str) -> Iterator[Event]:
    """A transaction holding the event's row lock; `EventNotFound` for an unknown id, `EventBusy` past the wait."""
    event_id = event_id_parse(event_id)
    seconds = settings.REGISTRATION_LOCK_TIMEOUT_SECONDS
    try:
        with lock_wait_limited(connection, seconds=seconds), transaction.atomic():
            event = _event_row_lock(event_id, seconds=seconds)
            if event is None:
                raise EventNotFound()
            yield event
    except OperationalError as error:
        if is_lock_timeout(error):
            raise EventBusy(retry_after=max(1, round(seconds))) from error
        raise
