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

A registration sends mail to an address of the caller's choosing, so one address
receives at most REGISTRATION_ADDRESS_RATE of them, whoever asks
(`registration_address_rate_check`).
"""

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
            earlier = _replay(user=user, idempotency_key=idempotency_key, event_id=event.pk, email=email)
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
            registration_address_rate_check(email=email)
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


def _insert(
    *, event, user, full_name, email, idempotency_key, language, waitlisted: bool, now
) -> Registration:
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
        if (
            idempotency_key
            and Registration.objects.filter(user=user, idempotency_key=idempotency_key).exists()
        ):
            raise IdempotencyKeyReused() from None
        raise AlreadyRegistered() from None
    return registration
