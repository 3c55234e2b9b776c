"""The door: a confirmation code is redeemed once, and staff see who came.

Guarantees:

- A code names one registration of its event (`registration_unique_event_code`),
  so a scan is one indexed lookup of (event, code).
- A code is redeemed once, however many scans of it arrive at once: the check-in
  is one conditional UPDATE (`... WHERE checked_in_at IS NULL`), which the
  database applies to one of them; the others read the row it left and answer
  `already_checked_in` with the first check-in's time.
- A scan retried with the Idempotency-Key of the scan that succeeded answers that
  success again (the key is kept on the row), so a door app that lost an answer
  can ask again without seeing its own scan as a second use.
- Check-in is open from CHECK_IN_OPENS_HOURS before the start to
  CHECK_IN_CLOSES_HOURS after it.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from events_face.events.errors import (
    AlreadyCheckedIn,
    CheckInClosed,
    EventNotFound,
    InvalidCode,
    RegistrationCancelled,
    event_id_parse,
)
from events_face.events.models import Event, Registration

# Rows per query of the attendee list: memory stays flat at any number of registrations.
ATTENDEE_BATCH = 2000


def check_in_window(*, event: Event) -> tuple[datetime, datetime]:
    return (
        event.event_time - timedelta(hours=settings.CHECK_IN_OPENS_HOURS),
        event.event_time + timedelta(hours=settings.CHECK_IN_CLOSES_HOURS),
    )


def _event(event_id: Any) -> Event:
    event = Event.objects.filter(pk=event_id_parse(event_id)).first()
    if event is None:
        raise EventNotFound()
    return event


def _checked_in_details(registration: Registration) -> dict[str, Any]:
    return {
        "registration": {
            "id": str(registration.pk),
            "full_name": registration.full_name,
            "checked_in_at": registration.checked_in_at.isoformat().replace("+00:00", "Z"),
        }
    }


def registration_check_in(
    *, event_id: Any, code: str, staff_user, idempotency_key: str | None = None, now: datetime | None = None
) -> Registration:
    """Check in the confirmed registration of the event holding `code`; returns it.

    `InvalidCode` (no confirmed registration has it: unknown, or waitlisted),
    `RegistrationCancelled`, `AlreadyCheckedIn` (with the first check-in's time and
    the name), `CheckInClosed` outside the window, `EventNotFound`.
    """
    now = now or timezone.now()
    event = _event(event_id)
    opens, closes = check_in_window(event=event)
    if not opens <= now <= closes:
        raise CheckInClosed()
    of_event = Registration.objects.filter(event=event, confirmation_code=code).exclude(confirmation_code="")
    checked_in = of_event.filter(status=Registration.Status.CONFIRMED, checked_in_at__isnull=True).update(
        checked_in_at=now, checked_in_by=staff_user, check_in_key=idempotency_key or None
    )
    registration = of_event.first()
    if registration is None:
        raise InvalidCode()
    if checked_in:
        return registration
    if registration.status == Registration.Status.CANCELLED:
        raise RegistrationCancelled()
    if registration.checked_in_at is None:  # waitlisted rows hold no code; nothing else is left
        raise InvalidCode()
    if idempotency_key and registration.check_in_key == idempotency_key:
        return registration  # the retry of the scan that checked it in
    raise AlreadyCheckedIn(details=_checked_in_details(registration))


def check_ins_undo(*, registration_ids: list) -> int:
    """Staff undo check-ins (the admin's action); returns how many were undone."""
    return Registration.objects.filter(pk__in=registration_ids, checked_in_at__isnull=False).update(
        checked_in_at=None, checked_in_by=None, check_in_key=None
    )


@dataclass(frozen=True)
class Attendance:
    capacity: int | None
    confirmed: int
    waitlisted: int
    cancelled: int
    checked_in: int


def event_attendance(*, event_id: Any) -> Attendance:
    """The event's counts at this moment, in one query."""
    event = _event(event_id)
    status = Registration.Status
    counts = Registration.objects.filter(event=event).aggregate(
        confirmed=Count("pk", filter=Q(status=status.CONFIRMED)),
        waitlisted=Count("pk", filter=Q(status=status.WAITLISTED)),
        cancelled=Count("pk", filter=Q(status=status.CANCELLED)),
        checked_in=Count("pk", filter=Q(status=status.CONFIRMED, checked_in_at__isnull=False)),
    )
    return Attendance(capacity=event.capacity, **counts)


ATTENDEE_COLUMNS = ("id", "full_name", "email", "status", "created_at", "checked_in_at")


def event_attendees(*, event_id: Any) -> Iterator[dict[str, Any]]:
    """Every registration of the event, by time registered, read in keyset batches.

    Batches of `ATTENDEE_BATCH` rows, each one indexed range read past the last
    row of the one before (`registration_event_status_idx` does not cover it; the
    event's own registrations are its FK index's range): no server-side cursor
    (PgBouncer's transaction pooling has none) and memory that does not grow with
    the list. Raises `EventNotFound` before yielding anything.
    """
    event = _event(event_id)
    return _attendee_batches(event)


def _attendee_batches(event: Event) -> Iterator[dict[str, Any]]:
    rows = Registration.objects.filter(event=event).order_by("created_at", "id").values(*ATTENDEE_COLUMNS)
    last = None
    while True:
        batch = rows
        if last is not None:
            batch = rows.filter(
                Q(created_at__gt=last["created_at"]) | Q(created_at=last["created_at"], id__gt=last["id"])
            )
        batch = list(batch[:ATTENDEE_BATCH])
        yield from batch
        if len(batch) < ATTENDEE_BATCH:
            return
        last = batch[-1]
