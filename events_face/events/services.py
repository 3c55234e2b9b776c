"""Registering for events, or joining an event's waiting list.

The guarantees "one active registration per event and e-mail" and "a full
event is never overbooked" are kept here, in `registration_create`, and in
`lifecycle.py` for what follows (cancellation, promotion, capacity changes):

- The event row is locked first, for a bounded time (`locking.event_locked`:
  `SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the transaction is
  IMMEDIATE, so it holds the database write lock from its first statement).
  Concurrent writes for one event therefore run one after another, and the
  seat count they read is current.
- The unique constraint on (event, lower(email)) among active (confirmed or
  waitlisted) registrations is the backstop: should two inserts ever race
  past the check, the database refuses the second.

The registration and its outbox message commit in the same transaction; the
notification is written then, in the registration's language.
"""

import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from events_face.events.errors import (
    AlreadyRegistered,
    EventFull,
    IdempotencyKeyReused,
    RegistrationClosed,
)
from events_face.events.lifecycle import (
    confirmation_code_generate,
    confirmed_count,
    registration_notify,
    waitlist_position,
    waitlist_promote,
)
from events_face.events.locking import event_locked
from events_face.events.models import Registration
from events_face.events.notifications import REGISTRATION_NOTIFICATION_TOPIC, WAITLIST_JOINED_TOPIC


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
    waitlist: bool = False,
) -> tuple[Registration, bool]:
    """Register `email` for the event; returns (registration, created).

    On a full event, with `waitlist` the registration joins the event's waiting
    list (status waitlisted, no confirmation code yet); without, `EventFull`.
    The returned registration carries `waitlist_position`.

    With an `idempotency_key` the user already used for this registration,
    returns the earlier registration and creates nothing. `language` (one of
    settings.LANGUAGES; default: the active one) is the notification's.
    """
    language = translation.get_supported_language_variant(language or translation.get_language())
    with event_locked(event_id=event_id) as event:
        if idempotency_key:
            earlier = _replay(
                user=user, idempotency_key=idempotency_key, event_id=event.pk, email=email
            )
            if earlier is not None:
                earlier.waitlist_position = waitlist_position(registration=earlier)
                return earlier, False

        now = timezone.now()
        if not event.is_open(now=now):
            raise RegistrationClosed()
        if Registration.objects.active().filter(event=event, email__iexact=email).exists():
            raise AlreadyRegistered()
        # Seats freed while the event was closed go to those already waiting, first.
        waitlist_promote(event=event, now=now)
        full = event.capacity is not None and confirmed_count(event=event) >= event.capacity
        if full and not waitlist:
            # Raised after the transaction commits, so a promotion above is kept.
            refusal = EventFull()
        else:
            refusal = None
            registration = _insert(
                event=event,
                user=user,
                full_name=full_name,
                email=email,
                idempotency_key=idempotency_key,
                language=language,
                waitlisted=full,
                now=now,
            )
            registration_notify(
                registration=registration,
                event=event,
                topic=WAITLIST_JOINED_TOPIC if full else REGISTRATION_NOTIFICATION_TOPIC,
            )
            registration.waitlist_position = waitlist_position(registration=registration)
    if refusal is not None:
        raise refusal
    return registration, True


def _insert(*, event, user, full_name, email, idempotency_key, language, waitlisted: bool, now) -> Registration:
    registration = Registration(
        event=event,
        user=user,
        full_name=full_name,
        email=email,
        status=Registration.Status.WAITLISTED if waitlisted else Registration.Status.CONFIRMED,
        confirmation_code="" if waitlisted else confirmation_code_generate(event=event),
        confirmed_at=None if waitlisted else now,
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
    return registration
