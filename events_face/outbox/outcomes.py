"""What became of a batch's attempts, written in one short transaction (rule 5 of `delivery.py`).

"Sent" is written whoever holds the lease (201 and 409 are facts);
reschedules and failures only while this worker still holds it. Then:

- 429, 5xx, deadline passed, connection error, an oversized answer
  (TRANSIENT): rescheduled with capped
  exponential backoff (`retry_delay`, Retry-After honoured), until the
  message has had OUTBOX_MAX_ATTEMPTS attempts; then it is failed.
- 401, 403 (CONFIGURATION): our token is missing, wrong or expired, which says
  nothing about the message. It is rescheduled with the same backoff (the
  attempt counts in `attempts`, so the delay keeps growing up to
  OUTBOX_RETRY_MAX_SECONDS) but never failed: the attempt is also counted in
  `unauthorized_attempts`, and OUTBOX_MAX_ATTEMPTS caps only
  `attempts - unauthorized_attempts`. Each batch logs one error per status
  naming NOTIFICATIONS_TOKEN, for as long as the token is refused.
- Other 4xx, or a topic with no sender (REJECTED): failed at once, kept for
  an operator.
- `last_error` and the log hold the sender's short excerpt of the answer,
  with the message's secrets (its confirmation code) cut out.
- A failed message is requeued (admin or `worker --requeue-failed`) with both
  counters back at 0.
"""

import logging
from collections import Counter
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


def retry_policy() -> RetryPolicy:
    """The outbox's retries, from settings: OUTBOX_MAX_ATTEMPTS counted attempts, capped backoff."""
    return RetryPolicy(
        attempts=settings.OUTBOX_MAX_ATTEMPTS,
        base_seconds=settings.OUTBOX_RETRY_BASE_SECONDS,
        max_seconds=settings.OUTBOX_RETRY_MAX_SECONDS,
    )


def retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt, after `attempts` failed ones (`RetryPolicy.delay`:
    jittered exponential backoff, Retry-After honoured, both cut to OUTBOX_RETRY_MAX_SECONDS)."""
    return retry_policy().delay(attempt=attempts, retry_after=retry_after)


def _unsuccessful_changes(message: OutboxMessage, result: SendResult, now: datetime) -> dict:
    """Field changes for an attempt that did not deliver: reschedule or fail."""
    changes: dict[str, Any] = {"leased_until": None, "lease_owner": ""}
    if result.verdict == Verdict.REJECTED:
        return {**changes, "failed_at": now, "last_error": f"rejected: {result.describe()}"}
    if result.verdict == Verdict.CONFIGURATION:
        # Our token, not this message: never failed, and not counted toward the cap.
        changes["unauthorized_attempts"] = F("unauthorized_attempts") + 1
    else:
        counted = message.attempts - message.unauthorized_attempts
        if counted >= retry_policy().attempts:
            return {
                **changes,
                "failed_at": now,
                "last_error": f"gave up after {counted} attempts: {result.describe()}",
            }
    # The backoff grows with every attempt, 401/403 included.
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

    # One line per kind of refusal, however many messages it hit; the sender's
    # description names the setting to fix.
    refused = Counter(
        (message.topic, result.describe())
        for message, result in deliveries
        if result is not None and result.verdict == Verdict.CONFIGURATION
    )
    for (topic, description), count in refused.items():
        logger.error(
            "%s: our credentials were refused for %d message(s) (%s); the messages will be retried",
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
