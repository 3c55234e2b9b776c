"""Messages that come due at a moment, not at a change: apps register what writes them.

A change writes its message in its own transaction (`services.outbox_message_create`).
A message due at a time (a reminder the day before an event) has no transaction
to ride on, so its app registers a schedule: a function `write(*, now)` that
writes the messages due by `now` and returns how many. Every worker runs every
schedule before each round of deliveries (so at least every
OUTBOX_POLL_INTERVAL), and several workers run them at once: each schedule
keeps "exactly once" itself (by locking the rows it marks as written, with
SKIP LOCKED, in the transaction that writes their messages).

    @outbox_schedule("events.reminders")
    def reminders_write(*, now): ...

The outbox names no schedule: apps register theirs from `AppConfig.ready`.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from events_face.outbox.registry import registrar

logger = logging.getLogger(__name__)

_schedules: dict[str, Callable[..., int]] = {}


def outbox_schedule(name: str):
    """Function decorator: the worker calls this `write(*, now) -> int` before each round of deliveries."""
    return registrar(_schedules, name, what="outbox schedules")


def registered_schedules() -> dict[str, Callable[..., int]]:
    return dict(_schedules)


def scheduled_messages_write(*, now: datetime) -> int:
    """Run every registered schedule; returns how many messages they wrote."""
    written = 0
    for name, write in _schedules.items():
        count = write(now=now)
        if count:
            logger.info("outbox schedule %s wrote %d message(s)", name, count)
        written += count
    return written
