"""The four things a soak run proves, each from the database and the emulators' own records.

Each function takes what was read at the end of the run and returns a `Proof`:
whether it holds, one line saying what was checked, and the counter-examples
(bounded) when it does not. None of them trusts the product's own code to
read the evidence: notifications are matched to registrations by their text,
and the provider's records are parsed here, not by the sync's parser.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.support.scale_out.load import REGISTER_CAPACITY, Sample

EXAMPLES = 10  # counter-examples kept per kind


@dataclass
class Proof:
    name: str
    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "summary": self.summary, "details": self.details}


@dataclass(frozen=True)
class RestartWindow:
    """From the SIGTERM to a web server until it answered again (seconds since the load started)."""

    server: int
    start: float
    end: float


# --- 1. one notification accepted per registration -------------------------------------------------
def notification_key(notification: dict[str, Any]) -> tuple[str, str, str] | None:
    """(e-mail, full name, confirmation code) as the notification's (English) text tells them.

    The code is the text's last word in every language (senders.notification_secrets).
    """
    message = notification.get("message", "")
    prefix, marker, introduction = "Hello, ", "! You are registered for ", "Your confirmation code: "
    head, introduced, code = message.rpartition(introduction)
    if not (message.startswith(prefix) and marker in head and introduced and code and " " not in code):
        return None
    return notification["email"], message[len(prefix) : message.index(marker)], code


def registration_key(registration: dict[str, Any]) -> tuple[str, str, str]:
    return registration["email"], registration["full_name"], registration["confirmation_code"]


def notifications_proof(*, registrations: list[dict], messages: list[dict], accepted: list[dict]) -> Proof:
    """Every registration has exactly one notification accepted downstream, and nothing else was.

    `accepted` is the emulator's record; it keeps one entry per id (a repeat got 409).
    So "accepted twice" can only mean under two ids: two accepted notifications
    carrying the same registration's e-mail, name and confirmation code.
    """
    by_registration: dict[tuple, list[str]] = defaultdict(list)
    unreadable = []
    for notification in accepted:
        key = notification_key(notification)
        if key is None:
            unreadable.append(notification["id"])
        else:
            by_registration[key].append(notification["id"])
    keys = {registration_key(registration) for registration in registrations}
    lost = [str(r["id"]) for r in registrations if not by_registration.get(registration_key(r))]
    twice = {str(r["id"]): by_registration[registration_key(r)] for r in registrations
             if len(by_registration.get(registration_key(r), [])) > 1}  # fmt: skip
    strangers = [ids for key, ids in by_registration.items() if key not in keys]
    message_ids = {str(message["id"]) for message in messages}
    accepted_ids = {notification["id"] for notification in accepted}
    unsent = [str(m["id"]) for m in messages if not m["sent"]]
    failed = [str(m["id"]) for m in messages if m["failed_at"] is not None]
    details = {
        "registrations": len(registrations),
        "outbox_messages": len(messages),
        "accepted": len(accepted),
        "lost": lost[:EXAMPLES],
        "lost_count": len(lost),
        "accepted_twice": dict(list(twice.items())[:EXAMPLES]),
        "accepted_twice_count": len(twice),
        "accepted_without_registration": strangers[:EXAMPLES],
        "unreadable": unreadable[:EXAMPLES],
        "accepted_under_unknown_id": sorted(accepted_ids - message_ids)[:EXAMPLES],
        "messages_never_accepted": sorted(message_ids - accepted_ids)[:EXAMPLES],
        "unsent_messages": len(unsent),
        "failed_messages": len(failed),
    }
    ok = not (lost or twice or strangers or unreadable or unsent or failed or accepted_ids ^ message_ids)
    ok = ok and len(messages) == len(registrations) == len(accepted)
    return Proof(
        "notifications",
        ok,
        f"{len(registrations)} registrations, {len(messages)} outbox messages, {len(accepted)} notifications "
        f"accepted; lost {len(lost)}, accepted twice {len(twice)}, unsent {len(unsent)}",
        details,
    )


def outbox_lags(*, registrations: list[dict], accepted: list[dict]) -> list[tuple[datetime, float]]:
    """(registration created at, seconds until its notification was accepted), per registration."""
    accepted_at = {}
    for notification in accepted:
        key = notification_key(notification)
        if key is not None:
            accepted_at.setdefault(key, datetime.fromisoformat(notification["accepted_at"]))
    lags = []
    for registration in registrations:
        at = accepted_at.get(registration_key(registration))
        if at is not None:
            lags.append((registration["created_at"], (at - registration["created_at"]).total_seconds()))
    return sorted(lags)


# --- 2. no overbooking, no duplicate ------------------------------------------------------------------
def bookings_proof(
    *, registrations: list[dict], capacity_event_id: str, capacity: int, acknowledged_ids: list[str],
    samples: list[Sample],
) -> Proof:  # fmt: skip
    """The capacity-limited event holds at most `capacity` registrations, no (event, e-mail)
    is registered twice in any case, every 201 a client saw is in the database, and a
    registration no client saw a 201 for was asked by a request that got no answer at all."""
    on_capacity_event = [r for r in registrations if str(r["event_id"]) == capacity_event_id]
    pairs = Counter((str(r["event_id"]), r["email"].lower()) for r in registrations)
    duplicates = [f"{event} {email} x{count}" for (event, email), count in pairs.items() if count > 1]
    stored = {str(r["id"]) for r in registrations}
    missing = [registration_id for registration_id in acknowledged_ids if registration_id not in stored]
    acknowledged = set(acknowledged_ids)
    attempts = defaultdict(list)
    for sample in samples:
        if sample.email:
            attempts[sample.email].append(sample)
    unacknowledged = {}  # registration id -> how the requests with its e-mail were answered
    for registration in registrations:
        if str(registration["id"]) not in acknowledged:
            unacknowledged[str(registration["id"])] = [
                f"{s.endpoint} on server {s.server + 1} at {s.started:.2f}s: {s.status or 'no answer'} {s.code}"
                for s in attempts[registration["email"]]
            ]
    # Only a request whose answer was lost (a restarting server) may have registered unseen.
    unexplained = {registration_id: answers for registration_id, answers in unacknowledged.items()
                   if not any("no answer" in answer for answer in answers)}  # fmt: skip
    capacity_samples = [sample for sample in samples if sample.endpoint == REGISTER_CAPACITY]
    created = sum(1 for sample in capacity_samples if sample.status == 201)
    refused_full = sum(1 for sample in capacity_samples if sample.code == "event_full")
    ok = (len(on_capacity_event) <= capacity and created <= capacity and not duplicates and not missing
          and not unexplained)  # fmt: skip
    return Proof(
        "bookings",
        ok,
        f"capacity-limited event: {len(on_capacity_event)} registrations for {capacity} places "
        f"({created} answered 201, {refused_full} answered event_full); {len(duplicates)} duplicate "
        f"(event, e-mail); {len(missing)} acknowledged registrations missing",
        {
            "capacity": capacity,
            "capacity_event_registrations": len(on_capacity_event),
            "capacity_event_201": created,
            "capacity_event_full_409": refused_full,
            "duplicates": duplicates[:EXAMPLES],
            "acknowledged_but_missing": missing[:EXAMPLES],
            "stored_without_a_201_seen": dict(list(unacknowledged.items())[:EXAMPLES]),
            "stored_without_a_201_seen_count": len(unacknowledged),
            "stored_without_any_answer_explaining_it": dict(list(unexplained.items())[:EXAMPLES]),
        },
    )


# --- 3. no server error outside the web restart ----------------------------------------------------------
def answers_proof(*, samples: list[Sample], windows: list[RestartWindow], load_errors: list[str]) -> Proof:
    """No 5xx and no unanswered request except against a restarting server, and every
    other answer one the API documents for that request."""

    def during_restart(sample: Sample) -> bool:
        ended = sample.started + sample.seconds
        return any(
            w.server == sample.server and sample.started <= w.end and ended >= w.start for w in windows
        )

    failed = [sample for sample in samples if sample.failed]
    in_window = [sample for sample in failed if during_restart(sample)]
    outside = [sample for sample in failed if not during_restart(sample)]
    unexpected = [sample for sample in samples if not sample.failed and not sample.expected()]

    def describe(sample: Sample) -> str:
        return (f"{sample.endpoint} on server {sample.server + 1} at {sample.started:.2f}s: "
                f"{sample.status or 'no answer'} {sample.code}".rstrip())  # fmt: skip

    ok = not outside and not unexpected and not load_errors
    return Proof(
        "answers",
        ok,
        f"{len(samples)} requests; {len(outside)} 5xx or unanswered outside the web restart, "
        f"{len(in_window)} during it; {len(unexpected)} unexpected answers",
        {
            "failed_outside_restart": [describe(s) for s in outside[:EXAMPLES]],
            "failed_outside_restart_count": len(outside),
            "failed_during_restart": Counter(
                f"{s.status or 'no answer'} {s.code}".rstrip() for s in in_window
            ),
            "failed_during_restart_count": len(in_window),
            "unexpected": [describe(s) for s in unexpected[:EXAMPLES]],
            "unexpected_count": len(unexpected),
            "load_generator_errors": load_errors[:EXAMPLES],
        },
    )


# --- 4. the mirror equals the provider --------------------------------------------------------------------
def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def sync_proof(
    *, provider_records: list[dict], events: list[dict], venues: list[dict], mutations: int
) -> Proof:
    """Every event (and place) the provider serves is stored with the provider's current values,
    and nothing else is stored."""
    stored = {str(event["id"]): event for event in events}
    stored_venues = {str(venue["id"]): venue for venue in venues}
    served = {record["id"]: record for record in provider_records}
    differences = []
    for event_id, record in served.items():
        event = stored.get(event_id)
        if event is None:
            continue
        place = record["place"]
        expected = {
            "name": record["name"],
            "event_time": _moment(record["event_time"]),
            "registration_deadline": _moment(record["registration_deadline"]),
            "status": record["status"],
            "venue_id": place["id"] if place else None,
            "provider_changed_at": _moment(record["changed_at"]),
        }
        actual = {**event, "venue_id": str(event["venue_id"]) if event["venue_id"] else None}
        differences += [f"event {event_id} {column}: provider {value!r}, stored {actual[column]!r}"
                        for column, value in expected.items() if actual[column] != value]  # fmt: skip
        if place:
            venue = stored_venues.get(place["id"])
            extra = {key: value for key, value in place.items() if key not in ("id", "name")}
            if venue is None or venue["name"] != place["name"] or venue["extra"] != extra:
                differences.append(f"venue {place['id']}: provider {place!r}, stored {venue!r}")
    missing = sorted(served.keys() - stored.keys())
    extra = sorted(stored.keys() - served.keys())
    differences = sorted(set(differences))
    ok = not (missing or extra or differences)
    return Proof(
        "sync",
        ok,
        f"{len(served)} provider events after {mutations} changes: {len(missing)} missing, "
        f"{len(extra)} not served, {len(differences)} field differences",
        {
            "provider_events": len(served),
            "stored_events": len(stored),
            "missing": missing[:EXAMPLES],
            "not_served": extra[:EXAMPLES],
            "differences": differences[:EXAMPLES],
        },
    )
