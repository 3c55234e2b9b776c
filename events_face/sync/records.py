"""One provider record checked against the contract: a typed `EventRecord`, or `InvalidRecord`.

Guarantees: an `EventRecord` has a UUID id, a non-empty name that fits our
columns, a status from the contract's five, timezone-aware date-times, and a
place that is `None` or has a UUID id and a non-empty name. Fields the contract
says may be added are tolerated: unknown event fields are ignored, extra place
fields (city, address, seats_pattern, ...) are kept in `PlaceRecord.extra`.
Nothing here touches the database.

Everything an `EventRecord` holds can be stored by both SQLite and PostgreSQL,
so one odd record cannot fail its whole page's upsert: every stored string
(name, place name, any string or key in place extras, however nested) has no
NUL character (PostgreSQL rejects it) and no lone surrogate (not encodable as
UTF-8); extras hold only JSON values (no NaN or infinities); every date-time
converts to UTC within the storable range (`core/storable_dates.py`), so
neither the conversion on write nor one to a local time zone on read overflows.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events_face.core.storable_dates import EARLIEST_MOMENT, LATEST_MOMENT

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


def _unstorable(text: str) -> str | None:
    """Why `text` cannot be stored in both databases, or None when it can."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return None


def _storable_text(value: str, what: str) -> str:
    problem = _unstorable(value)
    if problem is not None:
        raise InvalidRecord(f"{what} {problem}")
    return value


def _storable_json(value: Any, what: str) -> Any:
    """Check a JSON value for what a JSONField on either database refuses (iteratively: any depth)."""
    pending = [(value, what)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            _storable_text(item, path)
        elif isinstance(item, bool) or item is None or isinstance(item, int):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidRecord(f"{path} is not a finite number: {item!r}")
        elif isinstance(item, dict):
            for key, nested in item.items():
                if not isinstance(key, str):
                    raise InvalidRecord(f"{path} has a key that is not a string: {key!r}")
                _storable_text(key, f"a key of {path}")
                pending.append((nested, f"{path}.{key}"))
        elif isinstance(item, list):
            pending.extend((nested, f"{path}[{index}]") for index, nested in enumerate(item))
        else:
            raise InvalidRecord(f"{path} is not a JSON value: {type(item).__name__}")
    return value


def _uuid(value: Any, what: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise InvalidRecord(f"{what} is missing or not a string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidRecord(f"{what} is not a UUID: {value!r}") from None


def _name(value: Any, what: str, max_length: int) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidRecord(f"{what} is not a string: {type(value).__name__}")
    if not value or not value.strip():
        raise InvalidRecord(f"{what} is missing or empty")
    if len(value) > max_length:
        raise InvalidRecord(f"{what} is longer than {max_length} characters")
    return _storable_text(value, what)


def _datetime(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidRecord(f"{what} is missing or not a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRecord(f"{what} is not an ISO 8601 date-time: {value!r}") from None
    if moment.utcoffset() is None:
        raise InvalidRecord(f"{what} has no UTC offset: {value!r}")
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidRecord(f"{what} is out of range in UTC: {value!r}") from None
    if not EARLIEST_MOMENT <= in_utc <= LATEST_MOMENT:
        raise InvalidRecord(
            f"{what} is out of range (years {EARLIEST_MOMENT.year} to {LATEST_MOMENT.year} in UTC): {value!r}"
        )
    return moment


def _place(value: Any) -> PlaceRecord | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRecord("place is neither null nor an object")
    place_id = _uuid(value.get("id"), "place.id")
    name = _name(value.get("name"), "place.name", VENUE_NAME_MAX_LENGTH)
    extra = {key: item for key, item in value.items() if key not in {"id", "name"}}
    return PlaceRecord(id=place_id, name=name, extra=_storable_json(extra, "place"))


def event_record_parse(raw: Any) -> EventRecord:
    """Validate one record of a page; raises `InvalidRecord` with the first problem found."""
    if not isinstance(raw, dict):
        raise InvalidRecord("record is not an object")
    event_id = _uuid(raw.get("id"), "id")
    try:
        status = raw.get("status")
        if not isinstance(status, str) or status not in STATUSES:
            raise InvalidRecord(f"status is not one of the contract's: {status!r}")
        deadline = raw.get("registration_deadline")
        return EventRecord(
            id=event_id,
            name=_name(raw.get("name"), "name", EVENT_NAME_MAX_LENGTH),
            place=_place(raw.get("place")),
            event_time=_datetime(raw.get("event_time"), "event_time"),
            registration_deadline=None if deadline is None else _datetime(deadline, "registration_deadline"),
            status=status,
            changed_at=_datetime(raw.get("changed_at"), "changed_at"),
        )
    except InvalidRecord as exc:
        raise InvalidRecord(exc.reason, event_id=event_id) from None
