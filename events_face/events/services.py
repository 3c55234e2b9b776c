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
with their registrations and the venues only they used.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from events_face.core.errors import ServiceError
from events_face.events.models import Event, Registration, Venue
from events_face.events.selectors import EventNotFound, event_id_parse
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
