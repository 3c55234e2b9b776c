"""A registration's life after it is made: the waiting list, promotion, cancellation, capacity changes.

Every function here that writes runs in `locking.event_locked` (the event's
row lock, taken first) and keeps these invariants, which
tests/events/test_waitlist_*.py hold under concurrent clients and random
sequences of operations, on both databases:

1. Confirmed registrations never outnumber the capacity, except where staff
   lowered it below them (nobody is removed then).
2. Nobody waits while a seat is free and the event is open for registration:
   whenever a seat frees (`registration_cancel` of a confirmed one,
   `event_capacity_set` raising or clearing it) the waiting list is promoted
   in the same transaction (`waitlist_promote`); `registration_create` also
   promotes first, for seats freed while the event was closed.
3. Promotion is first come, first served: by time joined (`created_at`),
   then id (`RegistrationQuerySet.waiting_order`).
4. A cancellation frees exactly one seat however often it is sent: a
   cancelled registration stays cancelled, and cancelling it again changes
   and sends nothing.
5. Waiting positions are 1..k with no gaps: they are not stored but counted
   (`RegistrationQuerySet.with_waitlist_position`).

Each change writes one notification to the outbox in the same transaction,
in the registration's language (`events/notifications.py`).
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from events_face.accounts.authentication import user_key, user_refusal
from events_face.core.db import update_statement
from events_face.events.cancel_links import cancel_link, cancel_link_registration_id
from events_face.events.errors import CancellationClosed, RegistrationNotFound, registration_id_parse
from events_face.events.locking import event_locked, event_locked_reading
from events_face.events.models import Event, Registration
from events_face.events.notifications import (
    CANCELLATION_TOPIC,
    PROMOTION_TOPIC,
    REGISTRATION_NOTIFICATION_TOPIC,
    WAITLIST_JOINED_TOPIC,
    cancellation_notification,
    promotion_notification,
    registration_notification,
    waitlist_joined_notification,
)
from events_face.events.selectors import (
    SeatsHeld,
    confirmed_count,
    registration_with_seats_of,
    registration_with_seats_statement,
    waitlist_position_read,
)
from events_face.outbox.services import outbox_message_create

# Six digits: typed at the door. Unique within the event (the database's
# `registration_unique_event_code` is the backstop), so a code names one registration.
CONFIRMATION_CODE_DIGITS = 6


def confirmation_code_candidate() -> str:
    """A random code, which the caller checks no registration of the event holds."""
    return f"{secrets.randbelow(10**CONFIRMATION_CODE_DIGITS):0{CONFIRMATION_CODE_DIGITS}d}"


def confirmation_code_generate(*, event: Event) -> str:
    """A code no registration of `event` holds; the caller holds the event's lock."""
    # The partial unique index's own condition, stated: SQLite uses the index only then (else
    # it read every registration of the event).
    taken = Registration.objects.filter(event=event).exclude(confirmation_code="")
    while True:
        code = confirmation_code_candidate()
        if not taken.filter(confirmation_code=code).exists():
            return code


def waitlist_position(*, registration: Registration) -> int | None:
    """1 for the next to be promoted; None when not waitlisted."""
    if registration.status != Registration.Status.WAITLISTED:
        return None
    return waitlist_position_read(registration=registration)


def registration_notify(
    *,
    registration: Registration,
    event: Event,
    topic: str,
    position: int | None = None,
    preceded_by: tuple[str, list] | None = None,
) -> None:
    """The outbox message for this change of `registration` (inside its transaction).

    `position`: a waitlisted registration's place in the queue when the caller has
    just counted it (counting reads every entry ahead of it); else it is counted here.
    `preceded_by`: the change's own statement, sent with the message's (`outbox_message_create`).
    """
    message_id = uuid.uuid4()
    common = {
        "notification_id": message_id,
        "email": registration.email,
        "full_name": registration.full_name,
        "event_name": event.name,
        "event_time": event.event_time,
        "language": registration.language,
    }
    cancel_url = cancel_link(registration_id=registration.pk)
    if topic == REGISTRATION_NOTIFICATION_TOPIC:
        payload = registration_notification(
            **common, confirmation_code=registration.confirmation_code, cancel_url=cancel_url
        )
    elif topic == PROMOTION_TOPIC:
        payload = promotion_notification(
            **common, confirmation_code=registration.confirmation_code, cancel_url=cancel_url
        )
    elif topic == WAITLIST_JOINED_TOPIC:
        payload = waitlist_joined_notification(
            **common,
            position=position or waitlist_position(registration=registration),
            cancel_url=cancel_url,
        )
    elif topic == CANCELLATION_TOPIC:
        payload = cancellation_notification(**common)
    else:
        raise ValueError(f"no notification for the topic {topic!r}")
    outbox_message_create(message_id=message_id, topic=topic, payload=payload, preceded_by=preceded_by)


def waitlist_promote(
    *, event: Event, now: datetime, confirmed: int | None = None, seats: SeatsHeld | None = None
) -> list[Registration]:
    """Confirm the earliest waitlisted registrations, as many as there are free seats, while the event is open.

    The caller holds the event's lock (`event_locked`); `event` is the locked row.
    `confirmed`, when the caller has just counted them under that lock, saves counting again.
    `seats`, read under that lock too, names the first waiting and a code for them: when one
    seat is free, that is all a promotion needs to know.
    """
    if not event.is_open(now=now):
        return []
    waiting = Registration.objects.waiting_order().filter(event=event)
    free = None
    if event.capacity is not None:
        free = event.capacity - (confirmed_count(event=event) if confirmed is None else confirmed)
        if free <= 0:
            return []
        waiting = waiting[:free]
    codes = {}
    if free == 1 and seats is not None:
        promoted = [] if seats.first_waiting is None else [seats.first_waiting]
        if promoted and not seats.code_taken:
            codes[promoted[0].pk] = seats.code
    else:
        promoted = list(waiting)
    database = transaction.get_connection()
    for registration in promoted:
        registration.status = Registration.Status.CONFIRMED
        registration.confirmed_at = now
        registration.confirmation_code = codes.get(registration.pk) or confirmation_code_generate(event=event)
        # The UPDATE goes with its notification's INSERT, in one round trip on PostgreSQL.
        registration_notify(
            registration=registration,
            event=event,
            topic=PROMOTION_TOPIC,
            preceded_by=update_statement(
                registration, ["status", "confirmed_at", "confirmation_code"], database
            ),
        )
    return promoted


def registration_cancel(*, registration_id: uuid.UUID | str, user) -> tuple[Registration, bool]:
    """The owner cancels one registration; returns (registration, changed).

    Another user's registration, an unknown or a malformed id: `RegistrationNotFound`,
    the same for each. A cancelled one is returned as it is (changed False).
    """
    registration_id = registration_id_parse(registration_id)
    if user is None or not user.is_authenticated:
        raise RegistrationNotFound()
    return _cancel(registration_id=registration_id, owner=user)


def _cancel(*, registration_id: uuid.UUID, owner=None) -> tuple[Registration, bool]:
    """Cancel one registration (of `owner`, when given) under its event's lock. The lock's own
    statement finds the event; the registration, its event's counts, who a freed seat goes
    to and the owner's row (a user or a `TokenUser`; a deactivated or deleted one is refused,
    `user_refusal`) are read in the lock's round trip (PostgreSQL)."""
    code = confirmation_code_candidate()  # for a promotion; checked in the reading
    owner_key = None if owner is None else user_key(owner)  # a token's claim may be a string
    reading = registration_with_seats_statement(
        registration_id=registration_id, code=code, owner_id=owner_key
    )
    with event_locked_reading(registration_id=registration_id, reading=reading) as (event, row):
        if row is None:  # deleted since the lock's statement found its event
            raise RegistrationNotFound()
        registration, seats, owner_active = registration_with_seats_of(row, code=code)
        # Refusals change nothing: the transaction ends.
        if owner is not None and not owner_active:
            raise user_refusal(owner_active)  # the owner's row, read here, not by the authentication
        if owner is not None and registration.user_id != owner_key:
            raise RegistrationNotFound()
        changed = _cancel_locked(registration=registration, event=event, now=timezone.now(), seats=seats)
    return registration, changed


def registration_by_cancel_link(*, token: str) -> Registration:
    """The registration a cancel link names (`RegistrationNotFound` for a bad or stale link)."""
    registration = (
        Registration.objects.filter(pk=cancel_link_registration_id(token)).select_related("event").first()
    )
    if registration is None:
        raise RegistrationNotFound()
    registration.waitlist_position = waitlist_position(registration=registration)
    return registration


def registration_cancel_by_link(*, token: str) -> tuple[Registration, bool]:
    """Cancel the registration a signed link names, as its owner would; returns (registration, changed)."""
    return _cancel(registration_id=cancel_link_registration_id(token))


def registrations_cancel(*, registration_ids: list[uuid.UUID]) -> int:
    """Staff cancel these registrations (the admin's action), one event's lock at a time; returns how many changed.

    Each event's registrations are cancelled in one transaction, with promotion and
    notifications, as an owner's cancellation. A registration of an event that has
    started is left as it is.
    """
    changed = 0
    event_ids = sorted(
        set(Registration.objects.filter(pk__in=registration_ids).values_list("event_id", flat=True))
    )
    for event_id in event_ids:
        with event_locked(event_id=event_id) as event:
            now = timezone.now()
            for registration in Registration.objects.filter(pk__in=registration_ids, event=event).order_by(
                "created_at", "id"
            ):
                try:
                    changed += _cancel_locked(registration=registration, event=event, now=now)
                except CancellationClosed:
                    continue
    return changed


def _cancel_locked(
    *, registration: Registration, event: Event, now: datetime, seats: SeatsHeld | None = None
) -> bool:
    """`seats`: the event's counts, read under the lock before this change, when the caller has them."""
    if registration.status == Registration.Status.CANCELLED:
        return False
    if event.event_time <= now:
        raise CancellationClosed()
    held_a_seat = registration.status == Registration.Status.CONFIRMED
    registration.status = Registration.Status.CANCELLED
    registration.cancelled_at = now
    # The UPDATE goes with its notification's INSERT, in one round trip on PostgreSQL.
    registration_notify(
        registration=registration,
        event=event,
        topic=CANCELLATION_TOPIC,
        preceded_by=update_statement(registration, ["status", "cancelled_at"], transaction.get_connection()),
    )
    if held_a_seat:
        if seats is None:
            waitlist_promote(event=event, now=now)
        elif seats.waitlisted:  # nobody waiting: nothing to read
            waitlist_promote(event=event, now=now, confirmed=seats.confirmed - 1, seats=seats)
    return True


@dataclass(frozen=True)
class CapacityChange:
    confirmed: int
    promoted: int

    def over_capacity(self, capacity: int | None) -> int:
        """How many confirmed registrations exceed `capacity` (none are removed)."""
        return 0 if capacity is None else max(0, self.confirmed - capacity)


def event_capacity_set(*, event_id: uuid.UUID | str, capacity: int | None) -> CapacityChange:
    """Set the event's capacity (None: unlimited) and promote whoever the freed seats are for.

    Lowering it below the confirmed count is allowed and removes nobody.
    """
    with event_locked(event_id=event_id) as event:
        event.capacity = capacity
        event.save(update_fields=["capacity", "updated_at"])
        promoted = waitlist_promote(event=event, now=timezone.now())
        return CapacityChange(confirmed=confirmed_count(event=event), promoted=len(promoted))
