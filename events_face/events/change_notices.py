"""Change notices: when a sync moves an event, changes its venue or cancels it, every
active registrant (confirmed or waitlisted) gets one notice of that change.

`event_changes_notify` is called by the sync's page upsert, in the page's
transaction, with the changes it applied: a notice commits with its change, and a
re-run of the same pages changes nothing, so it sends nothing. It is set-based:
one read of the registrants of all the page's changed events, texts built in
memory, and the messages inserted in batches (`outbox_messages_create`), so an
event with 10,000 registrants costs its page a few statements, not 10,000.

A moved event's registrations are also marked not reminded (`reminders.py`): the
reminder comes again before the new time.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from events_face.events.models import Registration
from events_face.events.notifications import EVENT_CHANGED_TOPIC, EventChangedNotices
from events_face.outbox.services import outbox_messages_create

# Registrants read per query.
REGISTRANT_BATCH = 2000


@dataclass(frozen=True, slots=True)
class EventChange:
    """What a sync changed about one event that registrants care about."""

    event_id: uuid.UUID
    event_name: str
    moved_to: datetime | None = None
    venue_name: str | None = None  # set when the venue changed
    cancelled: bool = False


def event_changes_notify(*, changes: list[EventChange]) -> int:
    """Write one notice per active registrant of each changed event; returns how many."""
    by_event = {change.event_id: change for change in changes}
    if not by_event:
        return 0
    moved = [change.event_id for change in changes if change.moved_to is not None and not change.cancelled]
    if moved:
        Registration.objects.filter(event_id__in=moved, reminded_at__isnull=False).update(reminded_at=None)
    registrants = (
        Registration.objects.active()
        .filter(event_id__in=list(by_event))
        .order_by("pk")
        .values_list("pk", "event_id", "email", "full_name", "language")
    )
    texts = {
        event_id: EventChangedNotices(
            event_name=change.event_name,
            moved_to=change.moved_to,
            venue_name=change.venue_name,
            cancelled=change.cancelled,
        )
        for event_id, change in by_event.items()
    }
    written = 0
    last = None
    while True:
        batch = list((registrants if last is None else registrants.filter(pk__gt=last))[:REGISTRANT_BATCH])
        messages = []
        for _pk, event_id, email, full_name, language in batch:
            message_id = uuid.uuid4()
            payload = texts[event_id].notification(
                notification_id=message_id, email=email, full_name=full_name, language=language
            )
            messages.append((message_id, EVENT_CHANGED_TOPIC, payload))
        written += outbox_messages_create(messages)
        if len(batch) < REGISTRANT_BATCH:
            return written
        last = batch[-1][0]
