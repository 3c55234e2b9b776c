"""The events-provider emulator's events (see `emulator.py`): generated from a seed,
kept in the provider's order, served a page at a time after a cursor.

The same `seed` and `today` give the same events: names, shared venues (some
with city/address/seats_pattern, some events with `place: null`), event times
in the past and future, deadlines, all five statuses, and fields newer
provider versions add (`number_of_visitors`, ...). Like the emulator, this
imports nothing of the app.
"""

from __future__ import annotations

import base64
import bisect
import json
import random
import threading
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dtime

# The provider's own clock, as in the contract's examples.
PROVIDER_TZ = timezone(timedelta(hours=3))

_TOPICS = (
    "cryptography for engineers",
    "distributed systems",
    "Django at scale",
    "PostgreSQL internals",
    "product discovery",
    "accessible design",
    "data pipelines",
    "observability",
    "Rust for Python developers",
    "machine learning in production",
    "incident response",
    "API design",
    "type systems",
    "caching",
    "mobile performance",
    "security reviews",
    "event sourcing",
    "team leadership",
    "testing legacy code",
)
_FORMATS = ("Workshop", "Meetup", "Conference", "Talk", "Masterclass", "Hackathon", "Panel", "Webinar")
_VENUE_WORDS = ("Hall", "Auditorium", "Loft", "Hub", "Center", "Studio", "Arena", "Room")
_VENUE_NAMES = ("A", "B", "North", "South", "Riverside", "Central", "Garden", "Skyline", "Harbour", "Oak")
_CITIES = ("Moscow", "Berlin", "Lisbon", "Tbilisi", "Belgrade", "Yerevan", "Almaty", "Warsaw")
_STREETS = ("Lenina", "Main", "Station", "Market", "Park", "Harbour", "Mill", "Church")
_MALFORMATIONS = ("missing_id", "bad_uuid", "bad_date", "unknown_status", "empty_name", "naive_date")


def _iso(moment: datetime, timespec: str = "microseconds") -> str:
    return moment.astimezone(PROVIDER_TZ).isoformat(timespec=timespec)


def _micros(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


class Catalog:
    """The provider's events, kept sorted by (changed_at, id) with pre-serialized JSON."""

    def __init__(self, *, events: int, seed: int, today: date, page_size: int) -> None:
        self.seed = seed
        self.page_size = page_size
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        # The newest generated change is just before midnight of `today` (provider time),
        # so anything the control endpoint changes "now" is on a later date than all of them.
        self.anchor = datetime.combine(today, dtime(), PROVIDER_TZ)
        self.venues = [self._venue() for _ in range(max(3, events // 40))]
        self.events: dict[str, dict] = {}
        self.keys: list[tuple[int, str]] = []  # sorted (changed_at µs, id)
        self.json: dict[str, bytes] = {}
        self.malformed_json: dict[str, bytes] = {}
        for _ in range(events):
            self._store(
                self._event(changed_at=self.anchor - timedelta(seconds=self.rng.uniform(1, 45 * 86400)))
            )
        self.keys.sort()

    # --- generation --------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _venue(self) -> dict:
        rng = self.rng
        venue = {"id": self._uuid(), "name": f"{rng.choice(_VENUE_NAMES)} {rng.choice(_VENUE_WORDS)}"}
        if rng.random() < 0.6:  # newer provider versions describe the place further
            venue["city"] = rng.choice(_CITIES)
            venue["address"] = f"{rng.randint(1, 120)} {rng.choice(_STREETS)} St."
            venue["seats_pattern"] = rng.choice(["A1-A20,B1-B20", "1-300", "Row 1-12 x Seat 1-30"])
        return venue

    def _event(self, *, changed_at: datetime, event_id: str | None = None) -> dict:
        rng = self.rng
        event_time = (self.anchor + timedelta(days=rng.uniform(-60, 180))).replace(
            minute=0, second=0, microsecond=0
        )
        event_time = event_time.replace(hour=rng.choice((10, 12, 15, 18, 19)))
        deadline = None if rng.random() < 0.2 else event_time - timedelta(days=rng.choice((1, 2, 7)))
        if event_time < self.anchor:
            status = rng.choice(("finished", "finished", "cancelled", "registration_closed"))
        else:
            status = rng.choice(
                ("new", "published", "published", "published", "registration_closed", "cancelled")
            )
        created_at = changed_at - timedelta(days=rng.uniform(0, 30))
        record = {
            "id": event_id or self._uuid(),
            "name": f"{rng.choice(_FORMATS)}: {rng.choice(_TOPICS)}",
            "place": None if rng.random() < 0.15 else rng.choice(self.venues),
            "event_time": _iso(event_time, "seconds"),
            "registration_deadline": _iso(deadline, "seconds") if deadline else None,
            "status": status,
            "changed_at": _iso(changed_at),
        }
        if rng.random() < 0.5:  # fields only newer provider versions send
            record["number_of_visitors"] = rng.randint(0, 500)
            record["created_at"] = _iso(created_at)
            record["status_changed_at"] = _iso(created_at + (changed_at - created_at) / 2)
        return record

    def _malformed(self, record: dict) -> dict:
        """The record broken in one of the ways the contract says to skip (chosen from the seed)."""
        broken = dict(record)
        how = random.Random(f"{self.seed}:{record['id']}").choice(_MALFORMATIONS)
        if how == "missing_id":
            del broken["id"]
        elif how == "bad_uuid":
            broken["id"] = "not-a-uuid-" + record["id"][:8]
        elif how == "bad_date":
            broken["event_time"] = "next Tuesday"
        elif how == "unknown_status":
            broken["status"] = "postponed"
        elif how == "empty_name":
            broken["name"] = ""
        else:
            broken["changed_at"] = broken["changed_at"][:19]  # no UTC offset
        return broken

    def is_malformed(self, event_id: str, fraction: float) -> bool:
        return fraction > 0 and random.Random(f"{self.seed}:{event_id}:m").random() < fraction

    # --- storage -------------------------------------------------------------------------
    def _store(self, record: dict) -> None:
        self.events[record["id"]] = record
        self.keys.append((_micros(datetime.fromisoformat(record["changed_at"])), record["id"]))
        self.json[record["id"]] = json.dumps(record, separators=(",", ":")).encode()
        self.malformed_json.pop(record["id"], None)

    def _replace(self, record: dict) -> None:
        old = self.events[record["id"]]
        old_key = (_micros(datetime.fromisoformat(old["changed_at"])), old["id"])
        del self.keys[bisect.bisect_left(self.keys, old_key)]
        self._store(record)
        self.keys.pop()
        bisect.insort(self.keys, (_micros(datetime.fromisoformat(record["changed_at"])), record["id"]))

    def change(self, *, count: int = 0, ids: list[str] | None = None, add: int = 0) -> list[dict]:
        """Change events (new name, status, time, place) and add new ones, all changed now."""
        with self.lock:
            now = datetime.now(PROVIDER_TZ)
            ids = list(ids or []) + self.rng.sample(sorted(self.events), min(count, len(self.events)))
            changed = []
            for event_id in ids:
                record = self._event(changed_at=now, event_id=event_id)
                self._replace(record)
                changed.append(record)
            for _ in range(add):
                record = self._event(changed_at=now)
                self._store(record)
                self.keys.pop()
                bisect.insort(self.keys, (_micros(now), record["id"]))
                changed.append(record)
            return changed

    # --- serving -----------------------------------------------------------------------------
    def page(self, *, since: date | None, after: tuple[int, str] | None, malformed_fraction: float):
        """(records as JSON bytes, key of the last one or None if this is the last page)."""
        with self.lock:
            if after is not None:
                start = bisect.bisect_right(self.keys, after)
            elif since is not None:
                start = bisect.bisect_left(
                    self.keys, (_micros(datetime.combine(since, dtime(), PROVIDER_TZ)), "")
                )
            else:
                start = 0
            keys = self.keys[start : start + self.page_size]
            more = start + self.page_size < len(self.keys)
            chunks = []
            for _, event_id in keys:
                if self.is_malformed(event_id, malformed_fraction):
                    cached = self.malformed_json.get(event_id)
                    if cached is None:
                        cached = json.dumps(self._malformed(self.events[event_id])).encode()
                        self.malformed_json[event_id] = cached
                    chunks.append(cached)
                else:
                    chunks.append(self.json[event_id])
            return chunks, (keys[-1] if keys and more else None)

    def malformed_ids(self, fraction: float) -> list[str]:
        with self.lock:
            return [event_id for _, event_id in self.keys if self.is_malformed(event_id, fraction)]


# A cursor is a catalog key, (changed_at in µs, id), opaque to clients.
def encode_cursor(key: tuple[int, str]) -> str:
    return base64.urlsafe_b64encode(f"p={key[0]}&i={key[1]}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    fields = dict(part.split("=", 1) for part in raw.split("&"))
    return int(fields["p"]), str(uuid.UUID(fields["i"]))
