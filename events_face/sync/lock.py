"""The single-run lock: the only thing that keeps two syncs apart.

The upsert relies on it (its created/updated split is read, then written):

- PostgreSQL: a session-level advisory lock, `pg_try_advisory_lock`, on a
  connection of its own, made straight to PostgreSQL (DATABASE_DIRECT_URL behind
  PgBouncer: core/direct_connection.py), never through a transaction pooler,
  where the lock would stay with a pooled server session after the run. It is
  released when the run ends or, if the process dies, when that connection closes;
  a run whose lock connection was closed under it stops before its next page.
- SQLite: a lease row (`SyncLease`), taken in an IMMEDIATE transaction (the
  database write lock makes check-and-take atomic) and renewed inside every
  page's transaction. A crashed run's lease expires after `SYNC_LEASE_SECONDS`;
  a run that finds its lease taken over stops before applying another page.

Both are try-locks: a second run does not wait, it raises `SyncAlreadyRunning`.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from events_face.core.direct_connection import direct_connect
from events_face.sync.models import SyncLease

LOCK_NAME = "sync_events"
# Any bigint no other part of Events Face uses as an advisory lock key ("sync" in ASCII).
ADVISORY_LOCK_KEY = 0x73796E63


class SyncAlreadyRunning(Exception):
    pass


class SyncLockLost(Exception):
    pass


class SyncLock:
    """A held single-run lock. `renew()` must be called inside each page's transaction."""

    def __init__(self, *, holder: str, lease_seconds: float, session=None) -> None:
        self.holder = holder
        self.lease_seconds = lease_seconds
        # PostgreSQL: the direct connection whose session holds the advisory lock.
        self.session = session

    def renew(self) -> None:
        if connection.vendor != "sqlite":
            self._check_session()  # the advisory lock lasts as long as its session
            return
        renewed = SyncLease.objects.filter(name=LOCK_NAME, holder=self.holder).update(
            expires_at=timezone.now() + timedelta(seconds=self.lease_seconds)
        )
        if not renewed:
            raise SyncLockLost(
                "This run's lease expired and another sync took it over; stopping before the next "
                "page. Raise SYNC_LEASE_SECONDS above the slowest page (retries included)."
            )

    def _check_session(self) -> None:
        import psycopg

        try:
            self.session.execute("SELECT 1")
        except psycopg.Error as exc:
            raise SyncLockLost(
                f"The connection holding this run's sync lock closed ({exc}); another sync may "
                "take the lock, so this one stops before the next page."
            ) from None


@contextmanager
def sync_lock(*, lease_seconds: float) -> Iterator[SyncLock]:
    """Hold the single-run lock for the block, or raise `SyncAlreadyRunning` at once."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if connection.vendor == "postgresql":
        # Closing the session releases its lock: no unlock to forget, none that can fail.
        with direct_connect(autocommit=True, application_name=f"sync_events lock {holder}") as session:
            (acquired,) = session.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()
            if not acquired:
                raise SyncAlreadyRunning("Another sync_events is running; this one exits without syncing.")
            yield SyncLock(holder=holder, lease_seconds=lease_seconds, session=session)
        return

    now = timezone.now()
    with transaction.atomic():
        lease = SyncLease.objects.filter(name=LOCK_NAME).first()
        if lease is not None and lease.expires_at > now:
            raise SyncAlreadyRunning(
                f"Another sync_events is running ({lease.holder}, lease until "
                f"{lease.expires_at:%Y-%m-%d %H:%M:%S} UTC); this one exits without syncing."
            )
        SyncLease.objects.update_or_create(
            name=LOCK_NAME,
            defaults={
                "holder": holder,
                "acquired_at": now,
                "expires_at": now + timedelta(seconds=lease_seconds),
            },
        )
    try:
        yield SyncLock(holder=holder, lease_seconds=lease_seconds)
    finally:
        SyncLease.objects.filter(name=LOCK_NAME, holder=holder).delete()
