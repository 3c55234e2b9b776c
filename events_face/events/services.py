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
"""

import secrets
import uuid

from django.db import IntegrityError, transaction
from django.utils import translation

from events_face.events.errors import (
    AlreadyRegistered,
    EventFull,
    EventNotFound,
    IdempotencyKeyReused,
    RegistrationClosed,
    event_id_parse,
)
from events_face.events.models import Event, Registration
from events_face.events.notifications import REGISTRATION_NOTIFICATION_TOPIC, registration_notification
from events_face.outbox.services import outbox_message_create


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
