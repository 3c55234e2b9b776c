"""Mirroring the provider's events into our tables: sync runs, the page upsert, the single-run lock.

Guarantees:

- A page is applied in one transaction, with one SELECT and at most one bulk
  upsert (INSERT ... ON CONFLICT DO UPDATE) each for venues and events, never
  a query per record. A page either is applied whole (less its invalid records)
  or not at all, and the run's counters commit with it.
- Events are upserted, never deleted and re-created, so their registrations
  survive; `capacity` and `created_at` are ours and never overwritten. A record
  equal to what is stored (same `changed_at` and fields) is "unchanged" and not
  written; one older than what is stored is not applied either.
- A run that fails keeps what its earlier pages applied and is recorded as
  failed, so it does not move the incremental starting point (see
  `selectors.sync_incremental_since`).

The single-run lock (`sync_lock`) is the only thing that keeps two syncs apart,
and the upsert relies on it (its created/updated split is read, then written):

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

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import batched
from typing import Any

from django.db import connection, reset_queries, transaction
from django.db.models import F
from django.utils import timezone

from events_face.events.models import Event, Registration, Venue
from events_face.sync.models import SyncLease, SyncRun
from events_face.sync.provider import EventsProviderClient, ProviderError
from events_face.sync.records import EventRecord, InvalidRecord, event_record_parse

logger = logging.getLogger("events_face.sync")

LOCK_NAME = "sync_events"
# Any bigint no other part of Events Face uses as an advisory lock key ("sync" in ASCII).
ADVISORY_LOCK_KEY = 0x73796E63
# Ids per `IN (...)` lookup: well under SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 900

EVENT_FIELDS = ("name", "event_time", "registration_deadline", "status", "venue_id", "provider_changed_at")


class SyncAlreadyRunning(Exception):
    pass


class SyncLockLost(Exception):
    pass


class SyncStopped(Exception):
    pass


# --- the single-run lock --------------------------------------------------------------------
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


# --- sync runs -----------------------------------------------------------------------------------
def sync_run_start(*, mode: str, since_date: date | None) -> SyncRun:
    """Record a new run. Call with the lock held: any other run still 'running' is dead."""
    now = timezone.now()
    SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED,
        finished_at=now,
        error="Interrupted: its process ended before the run finished.",
    )
    return SyncRun.objects.create(mode=mode, since_date=since_date, started_at=now)


def sync_run_finish(*, run: SyncRun, error: str = "") -> SyncRun:
    run.status = SyncRun.Status.FAILED if error else SyncRun.Status.SUCCEEDED
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run


@dataclass(frozen=True, slots=True)
class PageResult:
    records: int
    created: int
    updated: int
    unchanged: int
    skipped: int


def sync_run_execute(
    *,
    run: SyncRun,
    client: EventsProviderClient,
    lock: SyncLock,
    on_page: Callable[[SyncRun, PageResult], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> SyncRun:
    """Fetch and apply every page of the run, then record how it ended.

    Provider errors, a lost lease and a requested stop fail the run (recorded,
    not raised); anything else is recorded and re-raised.
    """
    try:
        for page in client.pages(changed_since=run.since_date):
            result = sync_page_apply(run=run, records=page.records, page_url=page.url, lock=lock)
            if on_page is not None:
                on_page(run, result)
            if page.next_url is not None and should_stop():
                raise SyncStopped(
                    f"Stopped by a signal after {run.pages} pages; "
                    "the next incremental run starts from the previous successful one."
                )
    except (ProviderError, SyncLockLost, SyncStopped) as exc:
        return sync_run_finish(run=run, error=str(exc))
    except BaseException as exc:
        sync_run_finish(run=run, error=f"{type(exc).__name__}: {exc}")
        raise
    return sync_run_finish(run=run)


# --- the page upsert --------------------------------------------------------------------------------
def _raw_id(raw: Any) -> str:
    """A raw record's id for a log line, whatever the record is."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return ascii(value) if isinstance(value, str) else "without id"


def _records_parse(records: Iterable[Any], *, page_url: str) -> tuple[list[EventRecord], int, int]:
    """(valid records, one per event id, the newest wins; skipped count; duplicate count)."""
    valid: dict[uuid.UUID, EventRecord] = {}
    skipped = duplicates = 0
    for raw in records:
        try:
            record = event_record_parse(raw)
        except InvalidRecord as exc:
            skipped += 1
            logger.warning(
                "Skipped provider record %s: %s (page %s)", exc.event_id or "without id", exc.reason, page_url
            )
            continue
        except Exception as exc:
            # A record the validation did not foresee: still one record's problem, not the
            # page's (the contract: skip it, count it, log why). The traceback shows the gap.
            skipped += 1
            logger.warning(
                "Skipped provider record %s: unexpected %s while checking it: %r (page %s)",
                _raw_id(raw),
                type(exc).__name__,
                str(exc),  # %r: escaped, whatever characters the record put in it
                page_url,
                exc_info=True,
            )
            continue
        current = valid.get(record.id)
        if current is not None:
            duplicates += 1  # one INSERT ... ON CONFLICT may not touch a row twice
            if record.changed_at < current.changed_at:
                continue
        valid[record.id] = record
    return list(valid.values()), skipped, duplicates


def _stored(model, ids: list, fields: tuple[str, ...]) -> dict:
    stored = {}
    for chunk in batched(ids, LOOKUP_CHUNK):
        for row in model.objects.filter(id__in=chunk).values_list("id", *fields):
            stored[row[0]] = row[1:]
    return stored


def _venues_upsert(records: list[EventRecord]) -> None:
    places = {}
    for record in sorted(records, key=lambda r: r.changed_at):  # the newest description wins
        if record.place is not None:
            places[record.place.id] = record.place
    stored = _stored(Venue, list(places), ("name", "extra"))
    changed = [
        Venue(id=place.id, name=place.name, extra=place.extra)
        for place in places.values()
        if stored.get(place.id) != (place.name, place.extra)
    ]
    if changed:
        Venue.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["name", "extra", "updated_at"],
        )


def _events_upsert(records: list[EventRecord]) -> tuple[int, int, int]:
    stored = _stored(Event, [record.id for record in records], EVENT_FIELDS)
    created = updated = unchanged = 0
    changed = []
    for record in records:
        values = (
            record.name,
            record.event_time,
            record.registration_deadline,
            record.status,
            record.place.id if record.place else None,
            record.changed_at,
        )
        current = stored.get(record.id)
        if current is None:
            created += 1
        elif current == values or record.changed_at < current[-1]:  # [-1]: provider_changed_at
            unchanged += 1  # the same, or older than what we hold: nothing to write
            continue
        else:
            updated += 1
        changed.append(Event(id=record.id, **dict(zip(EVENT_FIELDS, values, strict=True))))
    if changed:
        Event.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["id"],
            # Not capacity, not created_at: those are ours.
            update_fields=[*EVENT_FIELDS, "updated_at"],
        )
    return created, updated, unchanged


def sync_page_apply(
    *, run: SyncRun, records: list[Any], page_url: str = "", lock: SyncLock | None = None
) -> PageResult:
    """Apply one page of raw provider records in one transaction; count what it did."""
    valid, skipped, duplicates = _records_parse(records, page_url=page_url)
    with transaction.atomic():
        if lock is not None:
            lock.renew()
        _venues_upsert(valid)
        created, updated, unchanged = _events_upsert(valid)
        unchanged += duplicates
        SyncRun.objects.filter(pk=run.pk).update(
            created=F("created") + created,
            updated=F("updated") + updated,
            unchanged=F("unchanged") + unchanged,
            skipped=F("skipped") + skipped,
            pages=F("pages") + 1,
        )
    # Committed: mirror the counters on the instance the caller holds.
    run.created += created
    run.updated += updated
    run.unchanged += unchanged
    run.skipped += skipped
    run.pages += 1
    # With DEBUG on Django keeps every query's SQL; a long run must not grow with it.
    reset_queries()
    return PageResult(
        records=len(records), created=created, updated=updated, unchanged=unchanged, skipped=skipped
    )


# --- cleanup ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CleanupResult:
    events: int
    registrations: int
    venues: int


def past_events_delete(*, older_than: timedelta, dry_run: bool = False) -> CleanupResult:
    """Delete events whose event_time is more than `older_than` ago, their registrations,
    and the venues that only they used (a venue with no events left). Outbox messages
    are not tied to events and are left to the outbox. With `dry_run`, only count.
    """
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        events = Event.objects.filter(event_time__lt=cutoff)
        venue_ids = list(events.exclude(venue=None).values_list("venue_id", flat=True).distinct())
        # Venues whose every event is among those deleted.
        orphaned = Venue.objects.filter(id__in=venue_ids).exclude(events__event_time__gte=cutoff)
        if dry_run:
            return CleanupResult(
                events=events.count(),
                registrations=Registration.objects.filter(event__in=events).count(),
                venues=orphaned.count(),
            )
        orphaned_ids = list(orphaned.values_list("id", flat=True))
        _, deleted = events.delete()
        venues, _ = Venue.objects.filter(id__in=orphaned_ids, events__isnull=True).delete()
    return CleanupResult(
        events=deleted.get(Event._meta.label, 0),
        registrations=deleted.get(Registration._meta.label, 0),
        venues=venues,
    )
