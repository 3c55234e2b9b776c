"""What the calendar files hold: events as rows, and whose feed a token opens."""

from typing import Any

from django.db.models import OuterRef, Subquery

from events_face.calendars.models import CalendarFeed
from events_face.calendars.services import token_digest
from events_face.events.errors import EventNotFound, event_id_parse
from events_face.events.models import Event, Registration, Venue

# What a calendar entry is built from.
CALENDAR_COLUMNS = ("id", "name", "event_time", "status", "calendar_sequence", "provider_changed_at")


def _with_venue(events):
    venue = Venue.objects.filter(pk=OuterRef("venue_id")).order_by()
    return events.annotate(
        venue_name=Subquery(venue.values("name")[:1]), venue_extra=Subquery(venue.values("extra")[:1])
    ).values(*CALENDAR_COLUMNS, "venue_name", "venue_extra")


def calendar_event(*, event_id: Any) -> dict[str, Any]:
    """One event's calendar row; `EventNotFound` for an unknown or malformed id."""
    row = _with_venue(Event.objects.filter(pk=event_id_parse(event_id))).first()
    if row is None:
        raise EventNotFound()
    return row


def feed_owner(*, token: str):
    """The user whose feed `token` opens, or None (unknown, replaced or revoked)."""
    feed = CalendarFeed.objects.select_related("user").filter(token_sha256=token_digest(token)).first()
    return None if feed is None or not feed.user.is_active else feed.user


def feed_events(*, user) -> list[dict[str, Any]]:
    """Calendar rows of the events `user` holds a confirmed registration for, by start time."""
    registered = Registration.objects.filter(user=user, status=Registration.Status.CONFIRMED).values(
        "event_id"
    )
    return list(_with_venue(Event.objects.filter(pk__in=registered).order_by("event_time", "id")))
