"""iCalendar (RFC 5545) files of events, built with the `icalendar` library.

Each event is one VEVENT that a calendar app can keep up to date:

- `UID` is the event's id (the provider's UUID) at this service: the same
  entry in every file, the single event's and the feed's, forever.
- `DTSTART` is in UTC; the provider gives no end, so `DTEND` is
  CALENDAR_EVENT_MINUTES after the start.
- `SEQUENCE` is `Event.calendar_sequence`, which the sync raises when the
  event's name, time or venue changes: apps replace their copy only for a
  higher one.
- `DTSTAMP` is when the provider last changed the event, so a file changes
  only when its events do (and its ETag with it).
- A cancelled event stays, with `STATUS:CANCELLED`, so apps strike it out.
"""

from collections.abc import Iterable
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from icalendar import Calendar
from icalendar import Event as CalendarEntry

from events_face.events.models import Event

PRODUCT_ID = "-//Events Face//Events Face//EN"
UID_DOMAIN = "events-face"
# Venue fields some providers add, in the order a LOCATION reads them.
LOCATION_EXTRA_FIELDS = ("address", "city")


def _location(row: dict[str, Any]) -> str | None:
    if row["venue_name"] is None:
        return None
    extra = row["venue_extra"] if isinstance(row["venue_extra"], dict) else {}
    parts = [row["venue_name"]]
    parts += [str(extra[field]) for field in LOCATION_EXTRA_FIELDS if isinstance(extra.get(field), str | int)]
    return ", ".join(part for part in parts if part)


def _entry(row: dict[str, Any]) -> CalendarEntry:
    start = row["event_time"].astimezone(UTC)
    entry = CalendarEntry()
    entry.add("uid", f"{row['id']}@{UID_DOMAIN}")
    entry.add("dtstamp", row["provider_changed_at"].astimezone(UTC))
    entry.add("dtstart", start)
    entry.add("dtend", start + timedelta(minutes=settings.CALENDAR_EVENT_MINUTES))
    entry.add("summary", row["name"])
    entry.add("sequence", row["calendar_sequence"])
    entry.add("status", "CANCELLED" if row["status"] == Event.Status.CANCELLED else "CONFIRMED")
    location = _location(row)
    if location:
        entry.add("location", location)
    return entry


def calendar_file(rows: Iterable[dict[str, Any]], *, name: str | None = None) -> bytes:
    """The .ics file of these calendar rows (`selectors.CALENDAR_COLUMNS` with the venue's)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    for row in rows:
        calendar.add_component(_entry(row))
    return calendar.to_ical()
