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
    row_by_key_sql,
)
from events_face.events.errors import EventBusy, EventNotFound, event_id_parse
from events_face.events.models import Event

# The first key of the two-int advisory locks on addresses ("addr" in ASCII); the
# second is the address's hash. Other advisory locks here use one bigint key.
ADDRESS_LOCK_CLASS = 0x61646472

# -- address_lock (PostgreSQL): the transaction's advisory lock on a lowercased address.
ADDRESS_LOCK = "SELECT pg_advisory_xact_lock(%(lock_class)s, hashtext(%(address)s))"


@functools.cache
def _event_lock_sql(vendor: str) -> str:
    """Every column of one event, `FOR UPDATE` on PostgreSQL."""
    sql = row_by_key_sql(Event, connection, key="%(id)s")
    return f"{sql} FOR UPDATE" if vendor == "postgresql" else sql


def _event_row_lock(event_id: uuid.UUID, *, seconds: float, address: str | None) -> Event | None:
    """The event's row, locked, as plain SQL: through the ORM, building the query cost more
    than the database's work. On PostgreSQL the lock timeout, the lock and the address's
    lock go in one round trip; on SQLite the transaction's BEGIN IMMEDIATE holds the lock already."""
    params = {"id": Event._meta.pk.get_db_prep_value(event_id, connection)}
    sql = _event_lock_sql(connection.vendor)
    if address is not None and connection.vendor == "postgresql":
        # A statement of its own after the row's: what it guards is read after both are held.
        sql = f"{sql}; {ADDRESS_LOCK}"
        params.update(lock_class=ADDRESS_LOCK_CLASS, address=address.lower())
    with connection.cursor() as cursor:
        execute_with_local_settings(cursor, sql, params, settings=lock_timeout(seconds=seconds), lasting=True)
        row = cursor.fetchone()
    return None if row is None else instance_from_row(Event, row, connections[connection.alias])


@contextmanager
def event_locked(*, event_id: uuid.UUID | str, address: str | None = None) -> Iterator[Event]:
    """A transaction holding the event's row lock; `EventNotFound` for an unknown id, `EventBusy` past the wait.

    With `address`, the transaction also holds the address's lock: registrations to one
    address for different events run one after another too (its rate is counted under
    it). The event lock does not serialise those; on PostgreSQL a transaction-scoped
    advisory lock (`ADDRESS_LOCK_CLASS`, a hash of the address lowercased) does, taken
    after the event's, always in that order (no deadlock), within the same wait. On
    SQLite the IMMEDIATE transaction already serialises every writer.
    """
    event_id = event_id_parse(event_id)
    seconds = settings.REGISTRATION_LOCK_TIMEOUT_SECONDS
    try:
        with lock_wait_limited(connection, seconds=seconds), transaction.atomic():
            event = _event_row_lock(event_id, seconds=seconds, address=address)
            if event is None:
                raise EventNotFound()
            yield event
    except OperationalError as error:
        if is_lock_timeout(error):
            raise EventBusy(retry_after=max(1, round(seconds))) from error
        raise
