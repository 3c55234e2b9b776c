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
(`_address_rate_check_and_code`).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
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
    confirmation_code_candidate,
    confirmation_code_generate,
    registration_notify,
    waitlist_position,
    waitlist_promote,
)
from events_face.events.locking import event_locked
from events_face.events.models import Registration
from events_face.events.notifications import REGISTRATION_NOTIFICATION_TOPIC, WAITLIST_JOINED_TOPIC
from events_face.events.selectors import event_seats_state, registration_checks


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


def _address_rate_check_and_code(*, event, email: str, now, waitlisted: bool) -> str:
    """Refuse (`AddressRateExceeded`, 429 with Retry-After) a registration to an
    address that already has REGISTRATION_ADDRESS_RATE registrations in the window;
    return the new registration's confirmation code ("" when `waitlisted`), one no
    registration of the event holds.

    Both read the registrations table under the same locks, so one statement
    answers both (`registration_checks`); a code found taken (rare: six digits) is
    drawn again until one is free. The rate counts rows of the registrations table,
    which nothing evicts, through the index on (lower(email), created_at).

    Runs inside `registration_create`'s transaction, after the event lock (always in
    that order: no deadlock). The event lock does not serialise registrations to one
    address for different events, so on PostgreSQL a transaction-scoped advisory lock
    on the address (`ADDRESS_LOCK_CLASS`) does, which the caller holds:
    `event_seats_state` took it. On SQLite the IMMEDIATE transaction already
    serialises every writer. `email` is normalised (`events/email_address.py`), so
    spellings count together.
    """
    limit, window_seconds = ScopedRateThrottle().parse_rate(settings.REGISTRATION_ADDRESS_RATE)
    window = timedelta(seconds=window_seconds)
    code = "" if waitlisted else confirmation_code_candidate()
    recent, code_taken = registration_checks(
        event_id=event.pk, email=email, since=now - window, limit=limit, code=code
    )
    if recent >= limit:
        newest = list(
            Registration.objects.annotate(address=Lower("email"))
            .filter(address=email.lower(), created_at__gt=now - window)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:limit]
        )
        # Below the limit again once the limit-th newest leaves the window.
        raise AddressRateExceeded(retry_after=int((newest[-1] + window - now).total_seconds()) + 1)
    if code_taken and not waitlisted:
        code = confirmation_code_generate(event=event)
    return code


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
        state = event_seats_state(event_id=event.pk, email=email, address_lock_class=ADDRESS_LOCK_CLASS)
        if state.address_registered:
            raise AlreadyRegistered()
        # Seats freed while the event was closed go to those already waiting, first.
        promoted = (
            waitlist_promote(event=event, now=now, confirmed=state.confirmed) if state.anyone_waiting else []
        )
        full = event.capacity is not None and state.confirmed + len(promoted) >= event.capacity
        if full and not waitlist:
            # Raised after the transaction commits, so a promotion above is kept.
            refusal = EventFull()
        else:
            refusal = None
            code = _address_rate_check_and_code(event=event, email=email, now=now, waitlisted=full)
            registration = _insert(
                event=event,
                user=user,
                full_name=full_name,
                email=email,
                idempotency_key=idempotency_key,
                language=language,
                confirmation_code=code,
                now=now,
            )
            registration.waitlist_position = waitlist_position(registration=registration)
            registration_notify(
                registration=registration,
                event=event,
                topic=WAITLIST_JOINED_TOPIC if full else REGISTRATION_NOTIFICATION_TOPIC,
                position=registration.waitlist_position,
            )
    if refusal is not None:
        raise refusal
    return registration, True


def _insert(
    *, event, user, full_name, email, idempotency_key, language, confirmation_code: str, now
) -> Registration:
    """A confirmed registration with `confirmation_code`, or a waitlisted one without ("")."""
    waitlisted = not confirmation_code
    registration = Registration(
        event=event,
        user=user,
        full_name=full_name,
        email=email,
        status=Registration.Status.WAITLISTED if waitlisted else Registration.Status.CONFIRMED,
        confirmation_code=confirmation_code,
        confirmed_at=None if waitlisted else now,
        idempotency_key=idempotency_key or None,
        language=language,
    )
    if not idempotency_key:
        # Nothing can race past the event lock: no savepoint (two more statements) needed.
        try:
            registration.save(force_insert=True)
        except IntegrityError:
            raise AlreadyRegistered() from None
        return registration
    try:
        with transaction.atomic():
            registration.save(force_insert=True)
    except IntegrityError:
        # Only the (user, idempotency key) constraint can race past the event
        # lock: the same key sent at once for two different events.
        if Registration.objects.filter(user=user, idempotency_key=idempotency_key).exists():
            raise IdempotencyKeyReused() from None
        raise AlreadyRegistered() from None
    return registration
