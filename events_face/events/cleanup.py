"""Forgetting events long past (`cleanup_events`): the events, their registrations, and the venues only they used.

`past_events_delete` works in short batches, each its own transaction, so a run
holds no long transaction, uses the same memory for any number of rows, and a
run killed halfway keeps what it deleted. `past_events_count` says what it
would delete.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import reset_queries, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from events_face.core.db import index_probes_only, one_of
from events_face.events.models import Event, Registration, Venue

# Events deleted per transaction by `past_events_delete`. A batch holds its rows'
# locks for a fraction of a second and sends IN lists well below SQLite's 32,766
# parameters. Each commit costs a WAL flush and a few round trips: batches of 2,000
# took 30% longer than 5,000, and 10,000 saved 10% more (docs/benchmarks.md).
CLEANUP_BATCH_SIZE = 5000


def past_horizon(*, days: int | None = None, now: datetime | None = None) -> datetime:
    """The moment before which an event is past keeping: `cleanup_events` deletes events
    whose event_time is earlier (`past_events_delete(before=...)`), and `sync_events`
    does not import them, so a sync never brings back what a cleanup deleted.
    `days` defaults to `CLEANUP_AFTER_DAYS`, the one setting both read."""
    days = settings.CLEANUP_AFTER_DAYS if days is None else days
    return (now or timezone.now()) - timedelta(days=days)


@dataclass(frozen=True, slots=True)
class CleanupCounts:
    """What a cleanup deletes, or would: events, their registrations, the venues left without events."""

    events: int = 0
    registrations: int = 0
    venues: int = 0

    def __add__(self, other: "CleanupCounts") -> "CleanupCounts":
        return CleanupCounts(
            events=self.events + other.events,
            registrations=self.registrations + other.registrations,
            venues=self.venues + other.venues,
        )


def past_events_delete(
    *,
    before: datetime,
    batch_size: int = CLEANUP_BATCH_SIZE,
    on_batch: Callable[[CleanupCounts], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> CleanupCounts:
    """Delete the events whose event_time is before `before`, their registrations, and
    the venues only they used (a venue with no events left); returns the totals.

    In batches of `batch_size` events, oldest first, each in its own transaction, so
    a run holds no long transaction, uses the same memory for any number of rows,
    and one that is killed keeps the batches it committed: running it again carries
    on. `on_batch` gets each committed batch's counts; `should_stop` is asked before
    each batch. Outbox messages are not tied to events and are left to the outbox.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = CleanupCounts()
    # Where the next batch's index range starts: earlier batches deleted everything
    # older (an event written older meanwhile waits for the next run), and the scan
    # does not step over the index entries of the rows they deleted.
    resume_from: datetime | None = None
    while not should_stop():
        with transaction.atomic():
            selected, batch, resume_from = _past_events_batch_delete(
                before=before, after=resume_from, size=batch_size
            )
        # With DEBUG on Django keeps every statement; a long run must not grow with it.
        reset_queries()
        total += batch
        if selected and on_batch is not None:
            on_batch(batch)
        if selected < batch_size:
            break
    return total


def _past_events_batch_delete(
    *, before: datetime, after: datetime | None, size: int
) -> tuple[int, CleanupCounts, datetime | None]:
    """Delete the oldest `size` events before `before` (from `after` on), in the caller's
    transaction; returns how many it selected, what went, and the last one's time.

    Plain set-based DELETEs by id list, dependents first. `QuerySet.delete()` would
    load every event (all columns) to find what cascades; here the registrations
    are deleted by their indexed event_id, so nothing is left to cascade and
    `_raw_delete` deletes just the rows named.
    """
    connection = transaction.get_connection()
    # Every statement of a batch has an index for each of its rows (the batch's range
    # of event_time, registrations by event_id, events and venues by id, a venue's
    # newest event), but before autovacuum has analysed a freshly loaded table the
    # planner misjudged them: it read all registrations per batch (85 ms instead of
    # about 20 at 200,000), and fetched and sorted every remaining old event to pick
    # the batch's 5,000 (half a second a batch at 1,000,000).
    index_probes_only(connection)
    candidates = Event.objects.filter(event_time__lt=before)
    if after is not None:
        candidates = candidates.filter(event_time__gte=after)
    # FOR UPDATE (PostgreSQL): a row another transaction changes meanwhile (a sync moving
    # its event_time) is checked again after it commits, and skipped if no longer old.
    rows = list(
        candidates.order_by("event_time", "id")
        .select_for_update()
        .values_list("id", "event_time", "venue_id")[:size]
    )
    if not rows:
        return 0, CleanupCounts(), after
    event_ids = [event_id for event_id, _, _ in rows]
    venue_ids = {venue_id for _, _, venue_id in rows if venue_id is not None}
    database, vendor = connection.alias, connection.vendor
    of_batch = Registration.objects.filter(one_of("event_id", event_ids, vendor=vendor))
    registrations = of_batch._raw_delete(database)
    events = Event.objects.filter(one_of("id", event_ids, vendor=vendor))._raw_delete(database)
    venues = 0
    if venue_ids:
        # "Has no event left", asked as "its newest event": on PostgreSQL a deleted row's index
        # entries stay until vacuum, and since batches go oldest first, a venue's entries in
        # event_venue_time_idx start with every event of it deleted so far. Read from the
        # newest end, a venue still in use answers at its first entry, not after all of those.
        newest_event = Event.objects.filter(venue=OuterRef("pk")).order_by("-event_time").values("pk")[:1]
        unused = Venue.objects.alias(newest_event=Subquery(newest_event)).filter(newest_event__isnull=True)
        venues = unused.filter(one_of("id", venue_ids, vendor=vendor))._raw_delete(database)
    deleted = CleanupCounts(events=events, registrations=registrations, venues=venues)
    return len(rows), deleted, rows[-1][1]


def past_events_count(*, before: datetime) -> CleanupCounts:
    """What `past_events_delete(before=...)` would delete now, counted by the database
    (three COUNTs, whatever the number of rows)."""
    old_events = Event.objects.filter(venue=OuterRef("pk"), event_time__lt=before)
    other_events = Event.objects.filter(venue=OuterRef("pk"), event_time__gte=before)
    return CleanupCounts(
        events=Event.objects.filter(event_time__lt=before).count(),
        registrations=Registration.objects.filter(event__event_time__lt=before).count(),
        venues=Venue.objects.filter(Exists(old_events), ~Exists(other_events)).count(),
    )
