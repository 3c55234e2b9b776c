"""Applying one page of provider records to our venues and events tables.

Guarantees:

- A page is applied in one transaction, with one SELECT and at most one bulk
  upsert (INSERT ... ON CONFLICT DO UPDATE) each for venues and events, never
  a query per record. A page either is applied whole (less its invalid records)
  or not at all, and the run's counters commit with it.
- Events are upserted, never deleted and re-created, so their registrations
  survive; `capacity` and `created_at` are ours and never overwritten. A record
  equal to what is stored (same `changed_at` and fields) is "unchanged" and not
  written; one older than what is stored is not applied either.
- A venue takes its fields only from a record newer than the one that last set
  them (`Venue.provider_changed_at`); within a page, the newest record naming it
  wins. So a stale record (an old copy of an unchanged event) renames no venue
  and empties no venue's extra fields. A venue missing is always created.
- What is written is declared once, in `EVENT_COLUMNS` and `VENUE_COLUMNS`:
  column name -> how to read it from a valid record. Nothing else is written.
- A valid record of an event earlier than `horizon` (the cleanup horizon,
  `events.cleanup.past_horizon`) that we do not hold is not imported, nor is
  its place: it is counted as `too_old`, so the sync does not bring back what
  `cleanup_events` deleted. One of an event we hold is applied (it moves the
  event into the past, where the cleanup takes it), never left stale and open.
- Every skipped record is remembered (`SkippedRecord`, one row per record:
  one upsert per page) until a page imports it (one DELETE per page by the
  imported ids); a successful full run forgets the rest (`services.py`).

It relies on the single-run lock (`lock.py`): its created/updated split is read,
then written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import batched
from operator import attrgetter
from typing import Any

from django.db import reset_queries, transaction
from django.db.models import F
from django.utils import timezone

from events_face.events.change_notices import EventChange, event_changes_notify
from events_face.events.models import Event, Venue
from events_face.sync.lock import SyncLock
from events_face.sync.models import SkippedRecord, SyncRun
from events_face.sync.records import EventRecord, InvalidRecord, event_record_parse

logger = logging.getLogger(__name__)

# Ids per `IN (...)` lookup: well under SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 900

# The provider's data we mirror, column by column. Not `capacity`, not `created_at`: those are ours.
EVENT_COLUMNS: dict[str, Callable[[EventRecord], Any]] = {
    "name": attrgetter("name"),
    "event_time": attrgetter("event_time"),
    "registration_deadline": attrgetter("registration_deadline"),
    "status": attrgetter("status"),
    "venue_id": lambda record: record.place.id if record.place else None,
    "provider_changed_at": attrgetter("changed_at"),
}
# A venue's columns, read from the record (with a place) that describes it.
VENUE_COLUMNS: dict[str, Callable[[EventRecord], Any]] = {
    "name": attrgetter("place.name"),
    "extra": attrgetter("place.extra"),
    "provider_changed_at": attrgetter("changed_at"),
}


@dataclass(frozen=True, slots=True)
class PageResult:
    records: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    too_old: int = 0


def _raw_id(raw: Any) -> str:
    """A raw record's id for a log line, whatever the record is."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return ascii(value) if isinstance(value, str) else "without id"


# --- skipped records ---------------------------------------------------------------------------
# Characters kept of a skipped record's id, of why it was skipped, and of the record as served.
SKIPPED_ID_CHARS = 200
SKIPPED_REASON_CHARS = 2000
SKIPPED_EXCERPT_CHARS = 500


@dataclass(frozen=True, slots=True)
class Skip:
    """A skipped record as `SkippedRecord` keeps it (see the model for `key`)."""

    key: str
    provider_id: str
    reason: str
    record_excerpt: str


def _one_line(text: str, limit: int) -> str:
    """`text` storable in both databases, on one line, within `limit` characters: NUL,
    control characters and lone surrogates escaped, then shortened."""
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _json_text(value: Any) -> str:
    """`value` as ASCII JSON (NUL and surrogates escaped), or "" if it cannot be written."""
    try:
        return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        return ""


def _skip(raw: Any, reason: str) -> Skip:
    """How a skipped record is remembered: by its id when it has a usable one."""
    served = _json_text(raw)
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, str):
        try:
            key = str(uuid.UUID(value))  # as the event is stored: a later import matches it
        except ValueError:
            key = f"id-sha256:{_digest(value)}"
        provider_id = value
    else:
        key = f"record-sha256:{_digest(served)}"
        provider_id = "" if value is None else _json_text(value)
    return Skip(
        key=key,
        provider_id=_one_line(provider_id, SKIPPED_ID_CHARS),
        reason=_one_line(reason, SKIPPED_REASON_CHARS),
        record_excerpt=_one_line(served, SKIPPED_EXCERPT_CHARS),
    )


def _skipped_remember(*, run: SyncRun, skips: list[Skip], imported: list[EventRecord]) -> None:
    """Upsert this page's skips (one row per key, first sighting kept), forget what it imported."""
    imported_keys = {str(record.id) for record in imported}
    latest = {skip.key: skip for skip in skips if skip.key not in imported_keys}
    for chunk in batched(sorted(imported_keys), LOOKUP_CHUNK):
        SkippedRecord.objects.filter(key__in=chunk).delete()
    if latest:
        now = timezone.now()
        rows = [
            SkippedRecord(
                key=skip.key,
                provider_id=skip.provider_id,
                reason=skip.reason,
                record_excerpt=skip.record_excerpt,
                first_skipped_at=now,
                last_skipped_at=now,
                last_run=run,
            )
            for skip in latest.values()
        ]
        SkippedRecord.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["provider_id", "reason", "record_excerpt", "last_skipped_at", "last_run"],
        )


def _records_parse(records: Iterable[Any], *, page_url: str) -> tuple[list[EventRecord], list[Skip], int]:
    """(valid records, one per event id, the newest wins; skipped records; duplicate count)."""
    valid: dict[uuid.UUID, EventRecord] = {}
    skips: list[Skip] = []
    duplicates = 0
    for raw in records:
        try:
            record = event_record_parse(raw)
        except InvalidRecord as exc:
            skips.append(_skip(raw, exc.reason))
            logger.warning(
                "Skipped provider record %s: %s (page %s)", exc.event_id or "without id", exc.reason, page_url
            )
            continue
        except Exception as exc:
            # A record the validation did not foresee: still one record's problem, not the
            # page's (the contract: skip it, count it, log why). The traceback shows the gap.
            skips.append(_skip(raw, f"unexpected {type(exc).__name__} while checking it: {str(exc)!r}"))
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
    return list(valid.values()), skips, duplicates


def _stored(model, ids: list, columns: Iterable[str]) -> dict[Any, dict[str, Any]]:
    """id -> {column: stored value} for the rows among `ids` that exist."""
    columns = list(columns)
    stored = {}
    for chunk in batched(ids, LOOKUP_CHUNK):
        for row in model.objects.filter(id__in=chunk).values("id", *columns):
            stored[row.pop("id")] = row
    return stored


def _rows_upsert(model, rows: list, columns: Iterable[str]) -> None:
    """One INSERT ... ON CONFLICT (id) DO UPDATE that writes `columns` (and `updated_at`) of `rows`."""
    if rows:
        model.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["id"], update_fields=[*columns, "updated_at"]
        )


def _venues_upsert(records: list[EventRecord]) -> None:
    describing: dict[uuid.UUID, EventRecord] = {}  # venue id -> the newest record describing it
    for record in sorted(records, key=attrgetter("changed_at")):  # stable: the later of equals wins
        if record.place is not None:
            describing[record.place.id] = record
    stored = _stored(Venue, list(describing), VENUE_COLUMNS)
    changed = []
    for venue_id, record in describing.items():
        current = stored.get(venue_id)
        set_at = None if current is None else current["provider_changed_at"]
        if current is not None and set_at is not None and record.changed_at <= set_at:
            continue  # described by a record as new or newer already: this one is stale
        # Newer: written even with the same name and extra, so that a record older than
        # this one but newer than the last writer cannot rewrite the venue later.
        changed.append(Venue(id=venue_id, **{column: read(record) for column, read in VENUE_COLUMNS.items()}))
    _rows_upsert(Venue, changed, VENUE_COLUMNS)


# A change of any of these is a new version of the event's calendar entry (`calendar_sequence`).
CALENDAR_COLUMNS = ("name", "event_time", "venue_id")


def _events_upsert(records: list[EventRecord]) -> tuple[int, int, int, list[EventChange]]:
    """Upsert the page's events; returns (created, updated, unchanged, the changes registrants hear of)."""
    stored = _stored(Event, [record.id for record in records], [*EVENT_COLUMNS, "calendar_sequence"])
    created = updated = unchanged = 0
    changed = []
    notices = []
    for record in records:
        values = {column: read(record) for column, read in EVENT_COLUMNS.items()}
        current = stored.get(record.id)
        sequence = 0
        if current is None:
            created += 1
        else:
            sequence = current.pop("calendar_sequence")
            if current == values or record.changed_at < current["provider_changed_at"]:
                unchanged += 1  # the same, or older than what we hold: nothing to write
                continue
            updated += 1
            if any(current[column] != values[column] for column in CALENDAR_COLUMNS):
                sequence += 1
            notice = _change_notice(record, current=current, values=values)
            if notice is not None:
                notices.append(notice)
        changed.append(Event(id=record.id, calendar_sequence=sequence, **values))
    _rows_upsert(Event, changed, [*EVENT_COLUMNS, "calendar_sequence"])
    return created, updated, unchanged, notices


def _change_notice(
    record: EventRecord, *, current: dict[str, Any], values: dict[str, Any]
) -> EventChange | None:
    """What registrants are told of this update: a new time, a new venue, a cancellation; or None."""
    cancelled = values["status"] == Event.Status.CANCELLED and current["status"] != Event.Status.CANCELLED
    moved = current["event_time"] != values["event_time"]
    new_venue = current["venue_id"] != values["venue_id"] and record.place is not None
    if not (cancelled or moved or new_venue):
        return None
    return EventChange(
        event_id=record.id,
        event_name=record.name,
        moved_to=record.event_time if moved else None,
        venue_name=record.place.name if new_venue else None,
        cancelled=cancelled,
    )


def _within_horizon(records: list[EventRecord], *, horizon: datetime) -> tuple[list[EventRecord], int]:
    """(the records to apply, how many are not): a record of an event earlier than `horizon`
    is applied only to an event we still hold (it is moved into the past, and the cleanup
    takes it); an event we do not hold, the cleanup deleted or would delete at once."""
    past = [record.id for record in records if record.event_time < horizon]
    if not past:
        return records, 0
    held = set()
    for chunk in batched(past, LOOKUP_CHUNK):
        held.update(Event.objects.filter(id__in=chunk).values_list("id", flat=True))
    kept = [record for record in records if record.event_time >= horizon or record.id in held]
    return kept, len(records) - len(kept)


def sync_page_apply(
    *,
    run: SyncRun,
    records: list[Any],
    page_url: str = "",
    lock: SyncLock | None = None,
    horizon: datetime | None = None,
) -> PageResult:
    """Apply one page of raw provider records in one transaction; count what it did.

    Records of events earlier than `horizon` (None: no limit) are counted, not imported.
    """
    valid, skips, duplicates = _records_parse(records, page_url=page_url)
    skipped = len(skips)
    too_old = 0
    with transaction.atomic():
        if lock is not None:
            lock.renew()
        if horizon is not None:
            valid, too_old = _within_horizon(valid, horizon=horizon)
        _venues_upsert(valid)
        created, updated, unchanged, notices = _events_upsert(valid)
        event_changes_notify(changes=notices)
        unchanged += duplicates
        _skipped_remember(run=run, skips=skips, imported=valid)
        SyncRun.objects.filter(pk=run.pk).update(
            created=F("created") + created,
            updated=F("updated") + updated,
            unchanged=F("unchanged") + unchanged,
            skipped=F("skipped") + skipped,
            too_old=F("too_old") + too_old,
            pages=F("pages") + 1,
        )
    # Committed: mirror the counters on the instance the caller holds.
    run.created += created
    run.updated += updated
    run.unchanged += unchanged
    run.skipped += skipped
    run.too_old += too_old
    run.pages += 1
    # With DEBUG on Django keeps every query's SQL; a long run must not grow with it.
    reset_queries()
    return PageResult(
        records=len(records),
        created=created,
        updated=updated,
        unchanged=unchanged,
        skipped=skipped,
        too_old=too_old,
    )
