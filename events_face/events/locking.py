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
from events_face.events.errors import EventBusy, EventNotFound, RegistrationNotFound, event_id_parse
from events_face.events.models import Event, Registration

# The first key of the two-int advisory locks on addresses ("addr" in ASCII); the
# second is the address's hash. Other advisory locks here use one bigint key.
ADDRESS_LOCK_CLASS = 0x61646472

# -- address_lock (PostgreSQL): the transaction's advisory lock on a lowercased address.
ADDRESS_LOCK = "SELECT pg_advisory_xact_lock(%(lock_class)s, hashtext(%(address)s))"


@functools.cache
def _event_lock_sql(vendor: str, *, by_registration: bool) -> str:
    """Every column of one event, `FOR UPDATE` on PostgreSQL: the event `%(id)s`, or the
    event of the registration `%(id)s` (a registration never moves to another event)."""
    key = "%(id)s"
    if by_registration:
        quote = connection.ops.quote_name
        key = (
            f"(SELECT {quote(Registration._meta.get_field('event').column)} "
            f"FROM {quote(Registration._meta.db_table)} WHERE {quote(Registration._meta.pk.column)} = %(id)s)"
        )
    sql = row_by_key_sql(Event, connection, key=key)
    return f"{sql} FOR UPDATE" if vendor == "postgresql" else sql


def _event_row_lock(
    key: uuid.UUID,
    *,
    by_registration: bool,
    seconds: float,
    address: str | None,
    reading: tuple[str, dict] | None,
) -> tuple[Event | None, tuple | None]:
    """The event's row (the event `key`, or the event of the registration `key`), locked, and
    `reading`'s row read under the lock, as plain SQL: through the ORM, building the query cost
    more than the database's work. On PostgreSQL the lock timeout, the lock, the address's lock
    and `reading` go in one round trip; on SQLite the transaction's BEGIN IMMEDIATE holds the
    lock already, and `reading` follows."""
    params = {"id": Event._meta.pk.get_db_prep_value(key, connection)}
    sql = _event_lock_sql(connection.vendor, by_registration=by_registration)
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        # Statements of their own after the row's: each reads with a snapshot taken when it
        # starts (READ COMMITTED), so what the locks guard is read once they are held.
        if address is not None:
            sql = f"{sql}; {ADDRESS_LOCK}"
            params.update(lock_class=ADDRESS_LOCK_CLASS, address=address.lower())
        if reading is not None:
            if params.keys() & reading[1].keys():
                raise ValueError(f"the reading's parameters may not be named {sorted(params)}")
            sql = f"{sql}; {reading[0]}"
            params.update(reading[1])
    with connection.cursor() as cursor:
        execute_with_local_settings(cursor, sql, params, settings=lock_timeout(seconds=seconds), lasting=True)
        row = cursor.fetchone()
        if row is None:
            return None, None
        read = None
        if reading is not None:
            if postgresql:
                if address is not None:
                    cursor.nextset()  # past the address lock's row
                cursor.nextset()
                read = cursor.fetchone()
            else:
                cursor.execute(*reading)
                read = cursor.fetchone()
    return instance_from_row(Event, row, connections[connection.alias]), read


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
    with event_locked_reading(event_id=event_id, address=address, reading=None) as (event, _read):
        yield event


@contextmanager
def event_locked_reading(
    *,
    event_id: uuid.UUID | str | None = None,
    registration_id: uuid.UUID | None = None,
    address: str | None = None,
    reading: tuple[str, dict] | None,
) -> Iterator[tuple[Event, tuple | None]]:
    """`event_locked`, which also reads `reading` (SQL and its named parameters, none of them
    `id`, `lock_class` or `address`) once the locks are held: (the event, the reading's first row).
    On PostgreSQL it goes in the lock's round trip: a round trip less under the lock.

    Instead of `event_id`, `registration_id` locks that registration's event, found by
    the lock's own statement (`RegistrationNotFound` if there is no such registration).
    """
    by_registration = registration_id is not None
    key = registration_id if by_registration else event_id_parse(event_id)
    seconds = settings.REGISTRATION_LOCK_TIMEOUT_SECONDS
    try:
        with lock_wait_limited(connection, seconds=seconds), transaction.atomic():
            event, read = _event_row_lock(
                key, by_registration=by_registration, seconds=seconds, address=address, reading=reading
            )
            if event is None:
                raise RegistrationNotFound() if by_registration else EventNotFound()
            yield event, read
    except OperationalError as error:
        if is_lock_timeout(error):
            raise EventBusy(retry_after=max(1, round(seconds))) from error
        raise
