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
(`_address_rate_check`).
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone, translation
from rest_framework.throttling import ScopedRateThrottle

from events_face.accounts.authentication import user_key, user_refusal
from events_face.core.db import insert_statement, inserted, is_unique_violation
from events_face.events.errors import (
    AddressRateExceeded,
    AlreadyRegistered,
    EventFull,
    IdempotencyKeyReused,
    RegistrationClosed,
    event_id_parse,
)
from events_face.events.lifecycle import (
    confirmation_code_candidate,
    confirmation_code_generate,
    registration_notify,
    waitlist_position,
    waitlist_promote,
)
from events_face.events.locking import event_locked_reading
from events_face.events.models import Registration
from events_face.events.notifications import REGISTRATION_NOTIFICATION_TOPIC, WAITLIST_JOINED_TOPIC
from events_face.events.selectors import (
    RegistrationState,
    registration_state_of,
    registration_state_statement,
    waitlist_position_read,
)


def _replay(*, user, idempotency_key: str, event_id: uuid.UUID, email: str) -> Registration | None:
    earlier = Registration.objects.filter(user_id=user.pk, idempotency_key=idempotency_key).first()
    if earlier is None:
        return None
    if earlier.event_id != event_id or earlier.email.lower() != email.lower():
        raise IdempotencyKeyReused()
    return earlier


def _address_rate_check(*, state: RegistrationState, email: str, since, limit: int) -> None:
    """Refuse (`AddressRateExceeded`, 429 with Retry-After) a registration to an address that
    already has REGISTRATION_ADDRESS_RATE registrations in the window (`state.address_recent`,
    counted under the address's lock). The rate counts rows of the registrations table, which
    nothing evicts, through the index on (lower(email), created_at). `email` is normalised
    (`events/email_address.py`), so spellings count together."""
    if state.address_recent < limit:
        return
    newest = list(
        Registration.objects.annotate(address=Lower("email"))
        .filter(address=email.lower(), created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    # Below the limit again once the limit-th newest leaves the window.
    raise AddressRateExceeded(retry_after=int((newest[-1] - since).total_seconds()) + 1)


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

    `user` is a user or the token's `TokenUser`: its row is read under the lock, and a user
    that is gone or inactive is refused (`user_refusal`), as the authentication would.

    With an `idempotency_key` the user already used for this registration,
    returns the earlier registration and creates nothing. `language` (one of
    settings.LANGUAGES; default: the active one) is the notification's.
    """
    language = translation.get_supported_language_variant(language or translation.get_language())
    limit, window_seconds = ScopedRateThrottle().parse_rate(settings.REGISTRATION_ADDRESS_RATE)
    event_id = event_id_parse(event_id)
    code = confirmation_code_candidate()  # checked under the lock: taken (rare), drawn again
    # The address's rate window ends now, before the lock's wait (at most a few seconds of it).
    since = timezone.now() - timedelta(seconds=window_seconds)
    user_id = user_key(user)  # a token's claim may be a string
    reading = registration_state_statement(
        event_id=event_id, user_id=user_id, email=email, since=since, limit=limit, code=code
    )
    with event_locked_reading(event_id=event_id, address=email, reading=reading) as (event, state_row):
        state = registration_state_of(state_row)
        if not state.user_active:
            raise user_refusal(state.user_active)
        if idempotency_key:
            earlier = _replay(user=user, idempotency_key=idempotency_key, event_id=event.pk, email=email)
            if earlier is not None:
                earlier.waitlist_position = waitlist_position(registration=earlier)
                return earlier, False

        now = timezone.now()
        if not event.is_open(now=now):
            raise RegistrationClosed()
        if state.address_registered:
            raise AlreadyRegistered()
        # Seats freed while the event was closed go to those already waiting, first.
        promoted = waitlist_promote(event=event, now=now, confirmed=state.confirmed) if state.waiting else []
        full = event.capacity is not None and state.confirmed + len(promoted) >= event.capacity
        if full and not waitlist:
            # Raised after the transaction commits, so a promotion above is kept.
            refusal = EventFull()
        else:
            refusal = None
            _address_rate_check(state=state, email=email, since=since, limit=limit)
            if full:
                code = ""  # a waitlisted registration gets its code when promoted
            elif state.code_taken or promoted:
                # Promotions above drew codes the statement did not see.
                code = confirmation_code_generate(event=event)
            registration = Registration(
                event=event,
                user_id=user_id,
                full_name=full_name,
                email=email,
                status=Registration.Status.WAITLISTED if full else Registration.Status.CONFIRMED,
                confirmation_code=code,
                confirmed_at=None if full else now,
                idempotency_key=idempotency_key or None,
                language=language,
            )
            database = transaction.get_connection()
            with _insert_refusals(user=user, idempotency_key=idempotency_key):
                if full:
                    # Its place in the queue is counted once it stands in it (in the INSERT's round
                    # trip on PostgreSQL), and the notification says it.
                    registration.waitlist_position = waitlist_position_read(
                        registration=registration, preceded_by=insert_statement(registration, database)
                    )
                    inserted(registration, database)
                    registration_notify(
                        registration=registration,
                        event=event,
                        topic=WAITLIST_JOINED_TOPIC,
                        position=registration.waitlist_position,
                    )
                else:
                    # The INSERT goes with its outbox message's, in one round trip on PostgreSQL.
                    registration_notify(
                        registration=registration,
                        event=event,
                        topic=REGISTRATION_NOTIFICATION_TOPIC,
                        preceded_by=insert_statement(registration, database),
                    )
                    inserted(registration, database)
                    registration.waitlist_position = None
    if refusal is not None:
        raise refusal
    return registration, True


@contextmanager
def _insert_refusals(*, user, idempotency_key: str | None) -> Iterator[None]:
    """Around a registration's INSERT (and its outbox message's): a unique violation becomes the
    caller's refusal; any other failure stays what it is."""
    if not idempotency_key:
        # Nothing can race past the event lock: no savepoint (two more statements) needed.
        try:
            yield
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
            raise AlreadyRegistered() from None
        return
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        # Only the (user, idempotency key) constraint can race past the event
        # lock: the same key sent at once for two different events.
        if Registration.objects.filter(user_id=user.pk, idempotency_key=idempotency_key).exists():
            raise IdempotencyKeyReused() from None
        raise AlreadyRegistered() from None
