"""The one HTTP policy every call to an upstream service follows.

What it guarantees, for both clients (events-provider and notifications):

- **A total deadline per request, cancellation, a capped body.** `request`
  (written in `http_transport.py`) makes one request: connect, send, headers
  and the whole body fit in `RequestLimits.deadline_seconds` whatever the
  server does; a request given `cancelled` (e.g. "SIGTERM arrived") stops
  within `CANCEL_CHECK_SECONDS`, and so do the waits between retries
  (`retrying`); a body past `RequestLimits.max_body_bytes` is `BodyTooLarge`,
  never read whole, however compressed: a body is decoded (gzip or deflate,
  one coding at most) within the same cap, and one that cannot be read is
  `UnreadableBody`.
- **Retry-After** is read in both forms (seconds and HTTP-date), and
  `RetryPolicy.delay` turns attempts into capped exponential backoff with
  jitter, honouring Retry-After up to a limit.
- **One classification of answers** (`classify`) into success, transient,
  configuration and rejected.
- **Short, redacted excerpts** (`excerpt`) of bodies for logs and stored
  errors: secrets are cut out before the text is shortened.

Clients import all of it from here. Nothing here knows about Django.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from events_face.integrations.http_transport import (  # noqa: F401 (re-exported: clients import them from here)
    CANCEL_CHECK_SECONDS,
    BodyTooLarge,
    Cancelled,
    DeadlineExceeded,
    Reply,
    RequestLimits,
    TransientFailure,
    TransportFailure,
    UnreadableBody,
    client_create,
    parse_retry_after,
    request,
)

# Characters of an upstream body kept in a log line or a stored error.
EXCERPT_CHARS = 200
REDACTED = "[redacted]"


# --- answers ---------------------------------------------------------------------------------
class Verdict(enum.StrEnum):
    SUCCESS = "success"
    TRANSIENT = "transient"
    CONFIGURATION = "configuration"
    REJECTED = "rejected"


# Answers that say "not now": a timeout, "too early", a rate limit (and every 5xx).
TRANSIENT_STATUSES = frozenset({408, 425, 429})
# Answers that say our configuration is wrong (the token), not the request.
CONFIGURATION_STATUSES = frozenset({401, 403})


def classify(
    status: int, *, success: Collection[int], configuration: Collection[int] = CONFIGURATION_STATUSES
) -> Verdict:
    """What an HTTP status means for the caller.

    | status                                 | verdict        | what the caller does              |
    | -------------------------------------- | -------------- | --------------------------------- |
    | one of `success`                       | SUCCESS        | use the answer                    |
    | one of `configuration` (401, 403)      | CONFIGURATION  | report the setting; no drop       |
    | 408, 425, 429, 5xx                     | TRANSIENT      | retry later, honour Retry-After   |
    | other 4xx                              | REJECTED       | stop retrying this request        |
    | anything else (other 2xx, 1xx, 3xx)    | TRANSIENT      | outside the contract: never taken |
    |                                        |                | for success, never dropped        |

    A caller for which another status names a setting passes it in `configuration`
    (the notifications client: 404, its URL).
    """
    if status in success:
        return Verdict.SUCCESS
    if status in configuration:
        return Verdict.CONFIGURATION
    if status in TRANSIENT_STATUSES or status >= 500:
        return Verdict.TRANSIENT
    if 400 <= status < 500:
        return Verdict.REJECTED
    return Verdict.TRANSIENT


def excerpt(body: bytes | str, *, secrets: Iterable[str] = (), limit: int = EXCERPT_CHARS) -> str:
    """A short, printable excerpt of an upstream body with every secret cut out.

    Secrets are replaced before the text is shortened, so a cut can never leave
    half a secret behind; control characters are escaped, so an excerpt is one line.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one attempt to hand something to an upstream came to (see `classify`)."""

    verdict: Verdict
    # None when no HTTP answer arrived (deadline, connection error).
    status: int | None = None
    # A short, redacted excerpt of the answer's body, or the network error.
    detail: str = ""
    # Seconds the service asked us to wait (Retry-After), if it said.
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.verdict == Verdict.SUCCESS

    def describe(self) -> str:
        """One line for logs and stored errors."""
        head = f"HTTP {self.status}" if self.status is not None else "no answer"
        return f"{head}: {self.detail}" if self.detail else head


# --- retries ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait when an upstream call fails transiently."""

    # Tries in all, the first included; None when the caller stops by other means
    # (the outbox: a time horizon, see `outbox/outcomes.py`). `retrying` needs one.
    attempts: int | None = None
    # Backoff after the first failed attempt, doubling after each one (seconds).
    base_seconds: float = 0.5
    # Longest backoff (seconds).
    max_seconds: float = 30.0
    # Longest Retry-After honoured (seconds); None: `max_seconds`. Beyond it, a
    # Retry-After is taken as a misconfiguration, not an order to sleep for hours.
    retry_after_limit_seconds: float | None = None

    def delay(self, *, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before the next try, after `attempt` failed ones.

        Exponential (base * 2**(attempt-1)) with "equal jitter": a random point in
        the upper half, so many retries spread out but none comes sooner than half
        the backoff. Never later than `max_seconds`; never sooner than Retry-After,
        up to its limit.
        """
        backoff = min(self.max_seconds, self.base_seconds * 2 ** min(max(attempt - 1, 0), 32))
        delay = backoff / 2 + random.uniform(0, backoff / 2)
        if retry_after is not None:
            limit = (
                self.max_seconds if self.retry_after_limit_seconds is None else self.retry_after_limit_seconds
            )
            delay = max(delay, min(retry_after, limit))
        return delay


def sleep_unless_cancelled(seconds: float, cancelled: Callable[[], bool] | None) -> None:
    if cancelled is None:
        time.sleep(seconds)
        return
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if cancelled():
            raise Cancelled("stopped while waiting to retry")
        time.sleep(min(left, CANCEL_CHECK_SECONDS))


def retrying(policy: RetryPolicy, *, cancelled: Callable[[], bool] | None = None) -> Retrying:
    """tenacity's `Retrying` for this policy: retries `TransientFailure`s, re-raises the last one."""
    if policy.attempts is None:
        raise ValueError("retrying() needs a policy with a number of attempts")

    def wait(retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = error.retry_after if isinstance(error, TransientFailure) else None
        return policy.delay(attempt=retry_state.attempt_number, retry_after=retry_after)

    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        sleep=lambda seconds: sleep_unless_cancelled(seconds, cancelled),
        retry=retry_if_exception_type(TransientFailure),
        reraise=True,
    )
