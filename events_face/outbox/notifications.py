"""Client for the notifications service (../shared/contracts/notifications.md).

One `NotificationsClient` wraps one `httpx.Client`: keep-alive connections
(as many as requests in flight), the Bearer token, timeouts. `send()` makes
exactly one attempt and never raises for what the service or the network
does; it classifies the answer into a `SendResult`:

| answer                                  | outcome            |
| --------------------------------------- | ------------------ |
| 201                                     | ACCEPTED           |
| 409                                     | ALREADY_ACCEPTED   |
| 429, 5xx, timeout, connection error     | RETRY              |
| 401, 403                                | UNAUTHORIZED       |
| other 4xx                               | REJECTED           |
| anything else (2xx but 201, 3xx, ...)   | RETRY              |

Only ACCEPTED and ALREADY_ACCEPTED mean "delivered". Retrying is the
caller's business (the outbox reschedules in the database); this module
knows nothing about Django.

`send()` is safe to call from several threads at once: they share the
connection pool.
"""

import email.utils
import enum
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import httpx

# How much of a response body is kept for the operator.
BODY_EXCERPT_CHARS = 500


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    ALREADY_ACCEPTED = "already_accepted"
    RETRY = "retry"
    UNAUTHORIZED = "unauthorized"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    # None when no HTTP answer arrived (timeout, connection error).
    status: int | None = None
    # Body excerpt of the answer, or the network error.
    detail: str = ""
    # Seconds the service asked us to wait (Retry-After), if it said.
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome in (Outcome.ACCEPTED, Outcome.ALREADY_ACCEPTED)

    def describe(self) -> str:
        """One line for logs and `OutboxMessage.last_error`."""
        head = f"HTTP {self.status}" if self.status is not None else "no answer"
        return f"{head}: {self.detail}" if self.detail else head


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _classify(status: int) -> Outcome:
    if status == 201:
        return Outcome.ACCEPTED
    if status == 409:
        return Outcome.ALREADY_ACCEPTED
    if status in (401, 403):
        return Outcome.UNAUTHORIZED
    if status == 429 or status >= 500:
        return Outcome.RETRY
    if 400 <= status < 500:
        return Outcome.REJECTED
    # Not in the contract: never "delivered", never dropped.
    return Outcome.RETRY


class NotificationsClient:
    """POSTs notifications to `url` with `Authorization: Bearer <token>`."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        max_connections: int = 16,
    ) -> None:
        self.url = url
        self._http = httpx.Client(
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=30.0,
            ),
        )

    def send(self, notification: Mapping[str, Any]) -> SendResult:
        body = json.dumps(notification, separators=(",", ":")).encode()
        try:
            response = self._http.post(self.url, content=body)
        except httpx.TimeoutException as exc:
            return SendResult(Outcome.RETRY, detail=f"timeout ({type(exc).__name__})")
        except httpx.TransportError as exc:
            detail = f"{type(exc).__name__}: {exc}"
            return SendResult(Outcome.RETRY, detail=detail[:BODY_EXCERPT_CHARS])
        return SendResult(
            _classify(response.status_code),
            status=response.status_code,
            detail=response.text[:BODY_EXCERPT_CHARS],
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "NotificationsClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

