"""The single-run lock: the only thing that keeps two syncs apart.

The upsert relies on it (its created/updated split is read, then written):

- PostgreSQL: a session-level advisory lock, `pg_try_advisory_lock`, on the
  connection that runs the sync. It is released when the run ends or, if the
  process dies, when its connection closes.
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

    def __init__(self, *, holder: str, lease_seconds: float) -> None:
        self.holder = holder
        self.lease_seconds = lease_seconds

    def renew(self) -> None:
        if connection.vendor != "sqlite":
            return  # the advisory lock lasts as long as the session
        renewed = SyncLease.objects.filter(name=LOCK_NAME, holder=self.holder).update(
            expires_at=timezone.now() + timedelta(seconds=self.lease_seconds)
        )
        if not renewed:
            raise SyncLockLost(
                "This run's lease expired and another sync took it over; stopping before the next "
                "page. Raise SYNC_LEASE_SECONDS above the slowest page (retries included)."
            )


@contextmanager
def sync_lock(*, lease_seconds: float) -> Iterator[SyncLock]:
    """Hold the single-run lock for the block, or raise `SyncAlreadyRunning` at once."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            (acquired,) = cursor.fetchone()
        if not acquired:
            raise SyncAlreadyRunning("Another sync_events is running; this one exits without syncing.")
        try:
            yield SyncLock(holder=holder, lease_seconds=lease_seconds)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
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
