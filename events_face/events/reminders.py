"""Reminders: each confirmed registration is reminded once, REMINDER_HOURS_BEFORE its event.

The outbox worker runs `reminders_write` before each round of deliveries (an
outbox schedule, registered from `EventsConfig.ready`). It writes a reminder
for each registration that is due one, and marks it (`reminded_at`) in the same
transaction. Rules:

- Due: confirmed, not yet reminded, its event not cancelled and starting within
  the next REMINDER_HOURS_BEFORE hours. Cancelled and waitlisted registrations
  get none; a promoted one is confirmed, and gets one.
- None for a registration confirmed inside that window: it has just had its
  confirmation, with the time in it.
- The event's time is read when the reminder is written, so a sync that moves
  the event moves its reminder; a move also clears `reminded_at` of its
  registrations (`change_notices.py`), so the reminder comes again before the
  new time.
- Exactly once with any number of workers: the rows are locked with SKIP LOCKED
  (PostgreSQL) or under SQLite's database write lock (IMMEDIATE transactions), and
  marked in the transaction that writes their messages.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from events_face.events.cancel_links import cancel_link
from events_face.events.models import Event, Registration
from events_face.events.notifications import REMINDER_TOPIC, reminder_notification
from events_face.outbox.schedules import outbox_schedule
from events_face.outbox.services import outbox_messages_create

# Registrations reminded per transaction: short row locks, bounded memory.
REMINDER_BATCH = 500


def reminders_due(*, now: datetime):
    window = timedelta(hours=settings.REMINDER_HOURS_BEFORE)
    window_opens = F("event__event_time") - window
    return (
        Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            reminded_at__isnull=True,
            event__event_time__gt=now,
            event__event_time__lte=now + window,
        )
        .exclude(event__status=Event.Status.CANCELLED)
        # Confirmed before the window opened (rows from before statuses: when made).
        .filter(Q(confirmed_at__lt=window_opens) | Q(confirmed_at__isnull=True, created_at__lt=window_opens))
    )


@outbox_schedule("events.reminders")
def reminders_write(*, now: datetime) -> int:
    """Write the reminders due by `now` (none with REMINDER_HOURS_BEFORE=0); returns how many."""
    if settings.REMINDER_HOURS_BEFORE <= 0:
        return 0
    written = 0
    while True:
        with transaction.atomic():
            batch = list(
                reminders_due(now=now)
                .select_related("event")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:REMINDER_BATCH]
            )
            messages = []
            for registration in batch:
                message_id = uuid.uuid4()
                payload = reminder_notification(
                    notification_id=message_id,
                    email=registration.email,
                    full_name=registration.full_name,
                    event_name=registration.event.name,
                    event_time=registration.event.event_time,
                    confirmation_code=registration.confirmation_code,
                    language=registration.language,
                    cancel_url=cancel_link(registration_id=registration.pk),
                )
                messages.append((message_id, REMINDER_TOPIC, payload))
            outbox_messages_create(messages)
            Registration.objects.filter(pk__in=[registration.pk for registration in batch]).update(
                reminded_at=now
            )
        written += len(batch)
        if len(batch) < REMINDER_BATCH:
            return written
