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

A registration sends mail to an address of the caller's choosing, so one address
receives at most REGISTRATION_ADDRESS_RATE of them, whoever asks
(`registration_address_rate_check`).
"""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone, translation
from rest_framework.throttling import ScopedRateThrottle

from events_face.events.errors import (
    AddressRateExceeded,
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


# The first key of the two-int advisory locks on addresses ("addr" in ASCII); the
# second is the address's hash. Other advisory locks here use one bigint key.
ADDRESS_LOCK_CLASS = 0x61646472


def registration_address_rate_check(*, email: str) -> None:
    """Refuse (`AddressRateExceeded`, 429 with Retry-After) a registration to an
    address that already has REGISTRATION_ADDRESS_RATE registrations in the window.

    Counts rows of the registrations table, which nothing evicts, through the
    index on (lower(email), created_at). Runs inside `registration_create`'s
    transaction, after the event lock (always in that order: no deadlock). The
    event lock does not serialise registrations to one address for different
    events, so on PostgreSQL a transaction-scoped advisory lock on the address
    does; on SQLite the IMMEDIATE transaction already serialises every writer.
    `email` is normalised (`events/email_address.py`), so spellings count together.
    """
    limit, window_seconds = ScopedRateThrottle().parse_rate(settings.REGISTRATION_ADDRESS_RATE)
    address = email.lower()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ADDRESS_LOCK_CLASS, address])
    now = timezone.now()
    window = timedelta(seconds=window_seconds)
    newest = list(
        Registration.objects.annotate(address=Lower("email"))
        .filter(address=address, created_at__gt=now - window)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(newest) >= limit:
        # Below the limit again once the limit-th newest leaves the window.
        raise AddressRateExceeded(retry_after=int((newest[-1] + window - now).total_seconds()) + 1)


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
        registration_address_rate_check(email=email)

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
