"""What became of a batch's attempts, written in one short transaction (rule 5 of `delivery.py`).

"Sent" is written whoever holds the lease (201 and 409 are facts);
reschedules and failures only while this worker still holds it. The sender
classified each answer (`integrations/http.py:classify`, and for the
notifications service the table in its `client.py`); here is the one place
that decides what each verdict does to the message:

| verdict        | answers (notifications)          | what becomes of the message              |
| -------------- | -------------------------------- | ---------------------------------------- |
| TRANSIENT      | 408, 425, 429, 5xx, no answer in | rescheduled with backoff, until a stretch|
|                | time, a broken connection, an    | of them has lasted                       |
|                | oversized answer                 | OUTBOX_RETRY_HORIZON_HOURS; then failed  |
| CONFIGURATION  | 401, 403 (NOTIFICATIONS_TOKEN),  | rescheduled with backoff, never failed;  |
|                | 404 (NOTIFICATIONS_URL)          | one log line per batch and status        |
| REJECTED       | other 4xx (400, 422, ...), a     | failed at once, kept for an operator     |
|                | topic with no sender             |                                          |

- The horizon is time, not a count of attempts, so an outage of a day or two
  costs no message whatever the backoff settings. It runs from the first
  passing trouble of a stretch (`retrying_since`), not from the message's
  creation: a message written while no worker ran is not held responsible for
  that wait. An answer that blames our settings (CONFIGURATION) ends the
  stretch: the message then waits on an operator, not on the service, and
  the next passing trouble starts a new one.
- The backoff (`retry_delay`, Retry-After honoured, capped at
  OUTBOX_RETRY_MAX_SECONDS) grows with every attempt, CONFIGURATION ones
  included, so a wrong setting costs a message about one request per
  OUTBOX_RETRY_MAX_SECONDS (an hour by default).
- `last_error` and the log hold the sender's short excerpt of the answer,
  with the message's secrets (its confirmation code) cut out.
- A failed message is requeued (admin or `worker --requeue-failed`) with its
  attempts back at 0 and a fresh horizon.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events_face.integrations.http import RetryPolicy, SendResult, Verdict
from events_face.outbox.metrics import ATTEMPTS
from events_face.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"outbox batch: claimed={self.claimed} sent={self.sent} retried={self.retried} "
            f"failed={self.failed} released={self.released} in {self.seconds:.2f}s"
        )


def delivery_retry_policy() -> RetryPolicy:
    """The outbox's backoff, from settings; when to stop is the horizon's business (`retry_horizon`)."""
    return RetryPolicy(
        base_seconds=settings.OUTBOX_RETRY_BASE_SECONDS,
        max_seconds=settings.OUTBOX_RETRY_MAX_SECONDS,
    )


def retry_horizon() -> timedelta:
    return timedelta(hours=settings.OUTBOX_RETRY_HORIZON_HOURS)


def retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt, after `attempts` failed ones (`RetryPolicy.delay`:
    jittered exponential backoff, Retry-After honoured, both cut to OUTBOX_RETRY_MAX_SECONDS)."""
    return delivery_retry_policy().delay(attempt=attempts, retry_after=retry_after)


def _unsuccessful_changes(message: OutboxMessage, result: SendResult, now: datetime) -> dict:
    """Field changes for an attempt that did not deliver: reschedule or fail (the table above)."""
    changes: dict[str, Any] = {"leased_until": None, "lease_owner": ""}
    if result.verdict == Verdict.REJECTED:
        return {**changes, "failed_at": now, "last_error": f"rejected: {result.describe()}"}
    if result.verdict == Verdict.CONFIGURATION:
        changes["retrying_since"] = None  # our settings, not the service: the stretch ends
    else:
        since = message.retrying_since or now
        if now - since >= retry_horizon():
            hours = (now - since).total_seconds() / 3600
            return {
                **changes,
                "failed_at": now,
                "last_error": (
                    f"gave up after {hours:.1f} hours of passing trouble (OUTBOX_RETRY_HORIZON_HOURS="
                    f"{settings.OUTBOX_RETRY_HORIZON_HOURS:g}), {message.attempts} attempts: {result.describe()}"
                ),
            }
        changes["retrying_since"] = since
    delay = retry_delay(attempts=message.attempts, retry_after=result.retry_after)
    return {
        **changes,
        "next_attempt_at": now + timedelta(seconds=delay),
        "last_error": result.describe(),
    }


def outcomes_record(
    *, lease_owner: str, deliveries: Sequence[tuple[OutboxMessage, SendResult | None]]
) -> BatchReport:
    """Write what happened to each claimed message (rule 5). None = released unsent.

    Once written, each message gets one log line (`_outcome_log`) and each
    attempt one count in `events_face_outbox_attempts_total`.
    """
    now = timezone.now()
    report = BatchReport(claimed=len(deliveries))
    delivered = [message.pk for message, result in deliveries if result and result.delivered]
    released = [message.pk for message, result in deliveries if result is None]
    # pk -> last_error of the messages given up on.
    given_up: dict[Any, str] = {}
    leased_to_me = OutboxMessage.objects.filter(lease_owner=lease_owner, sent=False)
    with transaction.atomic():
        if delivered:
            OutboxMessage.objects.filter(pk__in=delivered, sent=False).update(
                sent=True, sent_at=now, leased_until=None, lease_owner=""
            )
        if released:
            # Not attempted: due again now, and the claim's attempt is given back.
            leased_to_me.filter(pk__in=released).update(
                next_attempt_at=now, leased_until=None, lease_owner="", attempts=F("attempts") - 1
            )
        for message, result in deliveries:
            if result is None or result.delivered:
                continue
            changes = _unsuccessful_changes(message, result, now)
            leased_to_me.filter(pk=message.pk).update(**changes)
            if "failed_at" in changes:
                given_up[message.pk] = changes["last_error"]

    report.sent, report.released, report.failed = len(delivered), len(released), len(given_up)
    report.retried = report.claimed - report.sent - report.released - report.failed
    for message, result in deliveries:
        if result is None:
            outcome = "released"
        elif result.delivered:
            outcome = "delivered"
        else:
            outcome = "failed" if message.pk in given_up else "retried"
        if outcome != "released":  # a released message was not attempted
            ATTEMPTS.labels(topic=message.topic, outcome=outcome).inc()
        _outcome_log(message, result, outcome, error=given_up.get(message.pk, ""))

    # One line per topic and status that blames our settings, however many messages
    # it hit; the sender's description names the setting to fix.
    refused: dict[tuple[str, int | None], tuple[int, str]] = {}
    for message, result in deliveries:
        if result is not None and result.verdict == Verdict.CONFIGURATION:
            count, description = refused.get((message.topic, result.status), (0, result.describe()))
            refused[(message.topic, result.status)] = (count + 1, description)
    for (topic, _status), (count, description) in refused.items():
        logger.error(
            "%s: %d message(s) refused because of our settings, not their content (%s); "
            "they are kept and retried",
            topic,
            count,
            description,
        )
    return report


# A retry is worth a warning (the service is struggling); a message given up on needs an operator.
OUTCOME_LOG_LEVELS = {
    "delivered": logging.INFO,
    "released": logging.INFO,
    "retried": logging.WARNING,
    "failed": logging.ERROR,
}


def _outcome_log(message: OutboxMessage, result: SendResult | None, outcome: str, *, error: str) -> None:
    """One line per message: its id, topic, outcome, attempt and HTTP status (also as JSON
    fields); a failure adds the stored error, the answer's redacted excerpt."""
    status = result.status if result is not None else None
    if result is None:
        answer = "not attempted, due again now"
    else:
        answer = f"HTTP {status}" if status is not None else "no answer"
    logger.log(
        OUTCOME_LOG_LEVELS[outcome],
        "outbox message %s %s: topic %s, attempt %d, %s%s",
        message.pk,
        outcome,
        message.topic,
        message.attempts,
        answer,
        f"; {error}" if error else "",
        extra={
            "message_id": str(message.pk),
            "topic": message.topic,
            "outcome": outcome,
            "attempt": message.attempts,
            "status_code": status,
        },
    )
