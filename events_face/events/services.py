"""Registering for events.

The guarantees "one registration per event and e-mail" and "a full event is
never overbooked" are kept here, in `registration_create`, and nowhere else:

- The event row is locked first (`SELECT ... FOR UPDATE` on PostgreSQL; on
  SQLite the transaction is IMMEDIATE, so it holds the database write lock
  from its first statement). Concurrent registrations for one event therefore
  run one after another, and the capacity count they read is current.
- The unique constraint on (event, lower(email)) is the backstop: should two
  inserts ever race past the check, the database refuses the second.

The registration and its outbox message commit in the same transaction; the
notification is written then, in the registration's language.

`past_events_delete` (the `cleanup_events` command) forgets events long past,
with their registrations and the venues only they used, in short batches.
"""

import secrets
import uuid
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, reset_queries, transaction
from django.db.models import F, Lookup, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from events_face.core.errors import ServiceError
from events_face.events.models import Event, Registration, Venue
from events_face.events.selectors import CleanupCounts, EventNotFound, event_id_parse
from events_face.integrations.notifications.senders import (
    REGISTRATION_NOTIFICATION_TOPIC,
    registration_notification,
)
from events_face.outbox.services import outbox_message_create


class RegistrationClosed(ServiceError):
    status_code = 409
    code = "event_closed"
    default_message = _("Registration for this event is closed.")


class AlreadyRegistered(ServiceError):
    status_code = 409
    code = "already_registered"
    default_message = _("This e-mail address is already registered for this event.")


class EventFull(ServiceError):
    status_code = 409
    code = "event_full"
    default_message = _("This event has no places left.")


class IdempotencyKeyReused(ServiceError):
    status_code = 422
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used for a different registration.")


def confirmation_code_generate() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _event_lock(*, event_id: uuid.UUID | str) -> Event:
    """Lock the event row for the rest of the transaction (see module docstring)."""
    event = Event.objects.select_for_update().filter(pk=event_id_parse(event_id)).first()
    if event is None:
        raise EventNotFound()
    return event


def _replay(*, user, idempotency_key: str, event_id: uuid.UUID, email: str) -> Registration | None:
    earlier = Registration.objects.filter(user=user, idempotency_key=idempotency_key).first()
    if earlier is None:
        return None
    if earlier.event_id != event_id or earlier.email.lower() != email.lower():
        raise IdempotencyKeyReused()
    return earlier


def registration_create(
    *,
    event_id: uuid.UUID | str,
    full_name: str,
    email: str,
    user,
    idempotency_key: str | None = None,
    language: str | None = None,
) -> tuple[Registration, bool]:
    """Register `email` for the event; returns (registration, created).

    With an `idempotency_key` the user already used for this registration,
    returns the earlier registration and creates nothing. `language` (one of
    settings.LANGUAGES; default: the active one) is the notification's.
    """
    language = translation.get_supported_language_variant(language or translation.get_language())
    with transaction.atomic():
        event = _event_lock(event_id=event_id)
        if idempotency_key:
            earlier = _replay(
                user=user, idempotency_key=idempotency_key, event_id=event.pk, email=email
            )
            if earlier is not None:
                return earlier, False

        if not event.is_open():
            raise RegistrationClosed()
        if Registration.objects.filter(event=event, email__iexact=email).exists():
            raise AlreadyRegistered()
        if event.capacity is not None and event.registrations.count() >= event.capacity:
            raise EventFull()

        registration = Registration(
            event=event,
            user=user,
            full_name=full_name,
            email=email,
            confirmation_code=confirmation_code_generate(),
            idempotency_key=idempotency_key or None,
            language=language,
        )
        try:
            with transaction.atomic():
                registration.save(force_insert=True)
        except IntegrityError:
            # Only the (user, idempotency key) constraint can race past the event
            # lock: the same key sent at once for two different events.
            if idempotency_key and Registration.objects.filter(
                user=user, idempotency_key=idempotency_key
            ).exists():
                raise IdempotencyKeyReused() from None
            raise AlreadyRegistered() from None

        message_id = uuid.uuid4()
        outbox_message_create(
            message_id=message_id,
            topic=REGISTRATION_NOTIFICATION_TOPIC,
            payload=registration_notification(
                notification_id=message_id,
                email=registration.email,
                full_name=registration.full_name,
                event_name=event.name,
                event_time=event.event_time,
                confirmation_code=registration.confirmation_code,
                language=registration.language,
            ),
        )
    return registration, True


def catalogue_statistics_refresh() -> None:
    """Refresh the planner's statistics of the catalogue tables, after a sync changed them.

    PostgreSQL only. Its planner needs them to prefer the list's ordered index
    ranges over sorting every matching row of a small, freshly loaded table,
    and to use the trigram index for the `name` search; autovacuum gathers them
    too, but only a while after a bulk load. The SQLite plans need none (see
    `selectors`), and statistics could only make them less predictable.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Event._meta.db_table}, {Venue._meta.db_table}")


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


# PostgreSQL, for one batch's transaction: every statement of a batch has an
# index for each of its rows (the batch's range of event_time, registrations by
# event_id, events and venues by id, a venue's newest event), but before
# autovacuum has analysed a freshly loaded table the planner misjudges it:
# it read all registrations per batch (85 ms instead of about 20 at 200,000),
# and fetched and sorted every remaining old event to pick the batch's 5,000
# (half a second a batch at 1,000,000). Ruling out sequential and bitmap scans
# and sorts leaves the index reads; the cost that puts on the plans it rules out
# would trip JIT compilation (about 90 ms per statement), so that goes too.
_INDEX_PROBES_ONLY = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off; "
    "SET LOCAL jit = off"
)


class _AnyOf(Lookup):
    """`column = ANY(%s)`, the values sent as one array (PostgreSQL).

    The same test as `__in`, but 5,000 ids are one parameter instead of 5,000
    placeholders for Django and psycopg to build, parse and quote: a third of the
    cost of each batch's statements, measured.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.lhs)
        return f"{column} = ANY(%s)", [*params, list(self.rhs)]


def _one_of(column: str, values: Collection, *, vendor: str) -> Q | _AnyOf:
    if vendor == "postgresql":
        return _AnyOf(F(column), values)
    return Q(**{f"{column}__in": values})


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
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_INDEX_PROBES_ONLY)
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
    of_batch = Registration.objects.filter(_one_of("event_id", event_ids, vendor=vendor))
    registrations = of_batch._raw_delete(database)
    events = Event.objects.filter(_one_of("id", event_ids, vendor=vendor))._raw_delete(database)
    venues = 0
    if venue_ids:
        # "Has no event left", asked as "its newest event": on PostgreSQL a deleted row's index
        # entries stay until vacuum, and since batches go oldest first, a venue's entries in
        # event_venue_time_idx start with every event of it deleted so far. Read from the
        # newest end, a venue still in use answers at its first entry, not after all of those.
        newest_event = Event.objects.filter(venue=OuterRef("pk")).order_by("-event_time").values("pk")[:1]
        unused = Venue.objects.alias(newest_event=Subquery(newest_event)).filter(newest_event__isnull=True)
        venues = unused.filter(_one_of("id", venue_ids, vendor=vendor))._raw_delete(database)
    deleted = CleanupCounts(events=events, registrations=registrations, venues=venues)
    return len(rows), deleted, rows[-1][1]
