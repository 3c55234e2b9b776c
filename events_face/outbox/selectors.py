"""Reading the outbox: the numbers an operator watches."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone

from events_face.outbox.models import OutboxMessage


@dataclass(frozen=True, slots=True)
class OutboxStats:
    # Not sent and not failed: waiting, leased or being retried.
    pending: int
    # Stopped for good; waiting for an operator (`worker --requeue-failed`).
    failed: int
    # Seconds since the oldest pending message was created; None when none is.
    oldest_pending_age_seconds: float | None


def outbox_stats(*, now: datetime | None = None) -> OutboxStats:
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(sent=False, failed_at__isnull=True).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    failed = OutboxMessage.objects.filter(sent=False, failed_at__isnull=False).count()
    oldest = pending["oldest"]
    return OutboxStats(
        pending=pending["count"],
        failed=failed,
        oldest_pending_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else None,
    )
