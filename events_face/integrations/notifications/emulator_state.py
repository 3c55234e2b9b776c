"""The notifications emulator's state (see `emulator.py`): the notifications it
accepted, the faults it injects, and the contract's check of a notification.

Shared by every connection, behind one lock; the faults are drawn from one
seeded random source, so a `--seed` gives the same answers in the same order.
Like the emulator, this imports nothing of the app.
"""

import random
import threading
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

FIELDS = ("id", "owner_id", "email", "message")


@dataclass
class Faults:
    fail_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: int = 1
    drop_rate: float = 0.0
    latency_ms: float = 0.0
    script: deque = field(default_factory=deque)

    def update(self, changes: dict[str, Any]) -> None:
        for name in ("fail_rate", "throttle_rate", "drop_rate", "latency_ms"):
            if name in changes:
                setattr(self, name, float(changes[name]))
        if "retry_after" in changes:
            self.retry_after = int(changes["retry_after"])
        if "script" in changes:
            self.script = deque(changes["script"])

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "script": list(self.script)}


class NotificationsState:
    """What the emulator accepted and how it answered; shared by all connections."""

    def __init__(self, *, token: str, faults: Faults, seed: int | None) -> None:
        self.expected_authorization = f"Bearer {token}"
        self.faults = faults
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.accepted: dict[str, dict[str, Any]] = {}
        self.answers: Counter[str] = Counter()

    def pick_fault(self) -> dict[str, Any] | None:
        """The fault for this request, if any (decided under the lock, seeded)."""
        with self.lock:
            if self.faults.script:
                return self.faults.script.popleft()
            roll = self.random.random()
            if roll < self.faults.fail_rate:
                return {"status": 500, "body": {"error": "injected failure"}}
            roll -= self.faults.fail_rate
            if roll < self.faults.throttle_rate:
                return {
                    "status": 429,
                    "body": {"error": "slow down"},
                    "headers": {"Retry-After": str(self.faults.retry_after)},
                }
            roll -= self.faults.throttle_rate
            if roll < self.faults.drop_rate:
                return {"drop_after_accept": True}
        return None

    def accept(self, notification: dict[str, Any]) -> bool:
        """Keep the notification; False if its id was accepted before."""
        with self.lock:
            if notification["id"] in self.accepted:
                return False
            self.accepted[notification["id"]] = {
                **notification,
                "accepted_at": datetime.now(UTC).isoformat(),
            }
            return True

    def count(self, answer: int | str) -> None:
        with self.lock:
            self.answers[str(answer)] += 1

    def control_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "faults": self.faults.as_json(),
                "answers": dict(self.answers),
                "accepted": len(self.accepted),
            }


def validation_errors(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        return {"body": "must be a JSON object"}
    errors = {name: "unknown field" for name in body if name not in FIELDS}
    for name in FIELDS:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = "required, a non-empty string"
        elif name in ("id", "owner_id"):
            try:
                uuid.UUID(value)
            except ValueError:
                errors[name] = "must be a UUID"
        elif name == "email":
            local, at, domain = value.partition("@")
            if not (local and at and domain and len(value) <= 254 and " " not in value):
                errors[name] = "must be an e-mail address"
    return errors
