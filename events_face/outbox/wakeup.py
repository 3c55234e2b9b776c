"""How an idle worker waits for work without burning CPU.

On PostgreSQL, `outbox_message_create` NOTIFYs `OUTBOX_CHANNEL` in the
registration's transaction; PostgreSQL delivers it on commit, and the worker,
LISTENing on a connection of its own, wakes at once. Elsewhere (SQLite), or
while that connection is broken, the worker polls: it sleeps for the poll
interval. Either way a wait ends early when the worker is told to stop, and
never lasts longer than the timeout, so messages whose retry time has come
(no NOTIFY announces those) are picked up within one poll interval.
"""

import logging
import threading

from django.db import connection

from events_face.core.direct_connection import direct_connect
from events_face.outbox.services import OUTBOX_CHANNEL

logger = logging.getLogger(__name__)


class PollingWakeup:
    def __init__(self, *, stopping: threading.Event) -> None:
        self.stopping = stopping

    def wait(self, timeout: float) -> None:
        self.stopping.wait(timeout)

    def close(self) -> None:
        pass


class ListenWakeup(PollingWakeup):
    """LISTEN on a dedicated autocommit connection, so the worker's own
    connection (and its transactions) are never involved. It is a direct one
    (core/direct_connection.py): through a transaction pooler, the session that
    LISTENs would be lent to other clients and the notifications never arrive."""

    # Longest single wait on the socket: bounds how late a stop is noticed.
    SLICE_SECONDS = 0.25

    def __init__(self, *, stopping: threading.Event) -> None:
        super().__init__(stopping=stopping)
        self._listener = None

    def _connect(self):
        listener = direct_connect(autocommit=True)
        listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
        return listener

    def wait(self, timeout: float) -> None:
        import psycopg

        try:
            if self._listener is None:
                self._listener = self._connect()
            remaining = timeout
            while remaining > 0 and not self.stopping.is_set():
                slice_ = min(remaining, self.SLICE_SECONDS)
                if any(True for _ in self._listener.notifies(timeout=slice_, stop_after=1)):
                    # Fold every announcement already here into this one wake-up.
                    for _ in self._listener.notifies(timeout=0):
                        pass
                    return
                remaining -= slice_
        except psycopg.Error as exc:
            logger.warning("outbox LISTEN connection failed (%s); polling instead", exc)
            self.close()
            super().wait(timeout)

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None


def wakeup_for_database(*, stopping: threading.Event) -> PollingWakeup:
    if connection.vendor == "postgresql":
        return ListenWakeup(stopping=stopping)
    return PollingWakeup(stopping=stopping)
