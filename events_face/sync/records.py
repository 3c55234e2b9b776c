"""One provider record checked against the contract: a typed `EventRecord`, or `InvalidRecord`.

Guarantees: an `EventRecord` has a UUID id, a non-empty name that fits our
columns, a status from the contract's five, timezone-aware date-times, and a
place that is `None` or has a UUID id and a non-empty name. Fields the contract
says may be added are tolerated: unknown event fields are ignored, extra place
fields (city, address, seats_pattern, ...) are kept in `PlaceRecord.extra`.
Nothing here touches the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STATUSES = frozenset({"new", "published", "registration_closed", "finished", "cancelled"})
# Our columns' lengths (events.Event.name, events.Venue.name): a longer value would
# fail the whole page's INSERT, so it is one record's problem instead.
EVENT_NAME_MAX_LENGTH = 500
VENUE_NAME_MAX_LENGTH = 255


class InvalidRecord(ValueError):
    """The record breaks the contract; `reason` says how, `event_id` is its id if it had one."""

    def __init__(self, reason: str, *, event_id: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class PlaceRecord:
    id: uuid.UUID
    name: str
    extra: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: uuid.UUID
    name: str
    place: PlaceRecord | None
    event_time: datetime
    registration_deadline: datetime | None
    status: str
    changed_at: datetime


def _uuid(value: Any, what: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise InvalidRecord(f"{what} is missing or not a string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidRecord(f"{what} is not a UUID: {value!r}") from None


def _name(value: Any, what: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(f"{what} is missing or empty")
    if len(value) > max_length:
        raise InvalidRecord(f"{what} is longer than {max_length} characters")
    return value


def _datetime(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidRecord(f"{what} is missing or not a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRecord(f"{what} is not an ISO 8601 date-time: {value!r}") from None
    if moment.utcoffset() is None:
        raise InvalidRecord(f"{what} has no UTC offset: {value!r}")
    return moment


def _place(value: Any) -> PlaceRecord | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRecord("place is neither null nor an object")
    extra = {key: item for key, item in value.items() if key not in {"id", "name"}}
    return PlaceRecord(
        id=_uuid(value.get("id"), "place.id"),
        name=_name(value.get("name"), "place.name", VENUE_NAME_MAX_LENGTH),
        extra=extra,
    )


def event_record_parse(raw: Any) -> EventRecord:
    """Validate one record of a page; raises `InvalidRecord` with the first problem found."""
    if not isinstance(raw, dict):
        raise InvalidRecord("record is not an object")
    event_id = _uuid(raw.get("id"), "id")
    try:
        status = raw.get("status")
        if status not in STATUSES:
            raise InvalidRecord(f"status is not one of the contract's: {status!r}")
        deadline = raw.get("registration_deadline")
        return EventRecord(
            id=event_id,
            name=_name(raw.get("name"), "name", EVENT_NAME_MAX_LENGTH),
            place=_place(raw.get("place")),
            event_time=_datetime(raw.get("event_time"), "event_time"),
            registration_deadline=None
            if deadline is None
            else _datetime(deadline, "registration_deadline"),
            status=status,
            changed_at=_datetime(raw.get("changed_at"), "changed_at"),
        )
    except InvalidRecord as exc:
        raise InvalidRecord(exc.reason, event_id=event_id) from None
