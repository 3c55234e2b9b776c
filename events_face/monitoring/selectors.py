"""The numbers an operator watches, gathered from each capability's selectors."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from events_face.outbox.selectors import OutboxStats, outbox_stats
from events_face.sync.models import SkippedRecord, SyncRun


@dataclass(frozen=True, slots=True)
class SyncStats:
    # Seconds since the last successful sync finished; None before the first.
    last_success_age_seconds: float | None
    # True when the most recent finished run failed.
    last_run_failed: bool
    # Provider records skipped as invalid and not imported since (`SkippedRecord`).
    skipped_records: int


@dataclass(frozen=True, slots=True)
class ServiceMetrics:
    outbox: OutboxStats
    sync: SyncStats


def database_is_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any driver error means "not reachable" to a health check
        return False


def sync_stats(*, now: datetime) -> SyncStats:
    finished = SyncRun.objects.exclude(status=SyncRun.Status.RUNNING)
    last_success = finished.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at").first()
    last_run = finished.order_by("-started_at").first()
    return SyncStats(
        last_success_age_seconds=(
            max(0.0, (now - last_success.finished_at).total_seconds())
            if last_success and last_success.finished_at
            else None
        ),
        last_run_failed=bool(last_run and last_run.status == SyncRun.Status.FAILED),
        skipped_records=SkippedRecord.objects.count(),
    )


def service_metrics(*, now: datetime | None = None) -> ServiceMetrics:
    now = now or timezone.now()
    return ServiceMetrics(outbox=outbox_stats(now=now), sync=sync_stats(now=now))
