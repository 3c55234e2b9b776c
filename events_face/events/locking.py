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

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, transaction

from events_face.core.db import is_lock_timeout, lock_timeout_set_local, lock_wait_limited
from events_face.events.errors import EventBusy, EventNotFound, event_id_parse
from events_face.events.models import Event


@contextmanager
def event_locked(*, event_id: uuid.UUID | str) -> Iterator[Event]:
    """A transaction holding the event's row lock; `EventNotFound` for an unknown id, `EventBusy` past the wait."""
    event_id = event_id_parse(event_id)
    seconds = settings.REGISTRATION_LOCK_TIMEOUT_SECONDS
    try:
        with lock_wait_limited(connection, seconds=seconds), transaction.atomic():
            lock_timeout_set_local(connection, seconds=seconds)
            event = Event.objects.select_for_update().filter(pk=event_id).first()
            if event is None:
                raise EventNotFound()
            yield event
    except OperationalError as error:
        if is_lock_timeout(error):
            raise EventBusy(retry_after=max(1, round(seconds))) from error
        raise
