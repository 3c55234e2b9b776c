"""Sync runs: starting, executing and finishing one `sync_events` run.

A run fetches the provider's pages (`integrations/events_provider/client.py`)
and applies each in its own transaction (`upsert.py`), under the single-run
lock (`lock.py`). A run that fails keeps what its earlier pages applied and is
recorded as failed, so it does not move the incremental starting point (see
`selectors.sync_incremental_since`). Records a run skips are remembered until
one imports them (`SkippedRecord`, written by `upsert.py`). Each applied page is
logged and counted, and so is each finished run (`metrics.py`).

A run imports no event past the cleanup horizon (`CLEANUP_AFTER_DAYS`,
`events.cleanup.past_horizon`): what `cleanup_events` deletes stays deleted.
A successful run ends by deleting the venues no event uses any more (an event
moved to another place, or lost its place): the sync made them orphans, and
nothing shows a venue without an event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from events_face.events.cleanup import past_horizon
from events_face.events.models import Event, Venue
from events_face.integrations.events_provider.client import EventsProviderClient, ProviderError
from events_face.sync import metrics
from events_face.sync.lock import SyncLock, SyncLockLost
from events_face.sync.models import SkippedRecord, SyncRun
from events_face.sync.upsert import PageResult, sync_page_apply

logger = logging.getLogger(__name__)


class SyncStopped(Exception):
    pass


def sync_run_start(*, mode: str, since_date: date | None) -> SyncRun:
    """Record a new run. Call with the lock held: any other run still 'running' is dead."""
    now = timezone.now()
    SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED,
        finished_at=now,
        error="Interrupted: its process ended before the run finished.",
    )
    return SyncRun.objects.create(mode=mode, since_date=since_date, started_at=now)


def sync_run_finish(*, run: SyncRun, error: str = "") -> SyncRun:
    """Record how the run ended. A successful full run saw every record the provider
    has: a skipped record it did not skip again is mended or gone, so it is forgotten
    (this is how a record skipped without a usable id leaves the list)."""
    run.status = SyncRun.Status.FAILED if error else SyncRun.Status.SUCCEEDED
    run.error = error
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save(update_fields=["status", "error", "finished_at"])
        if run.status == SyncRun.Status.SUCCEEDED and run.mode == SyncRun.Mode.ALL:
            SkippedRecord.objects.exclude(last_run=run).delete()
    if run.status == SyncRun.Status.SUCCEEDED:
        orphans = orphan_venues_delete()
        if orphans:
            logger.info(
                "sync run %s deleted %d venues no event uses", run.pk, orphans, extra={"sync_run": run.pk}
            )
    metrics.RUNS.labels(mode=run.mode, outcome=run.status).inc()
    return run


def orphan_venues_delete() -> int:
    """Delete the venues no event uses; returns how many. One statement, its own transaction
    (an anti-join on the venue's index, `event_venue_time_idx`). Safe beside a cleanup, which
    deletes venues too; a page that names a venue again creates it again."""
    with transaction.atomic():
        in_use = Event.objects.filter(venue=OuterRef("pk"))
        # No event refers to these rows, so nothing cascades: a plain DELETE of just them.
        return Venue.objects.filter(~Exists(in_use))._raw_delete(Venue.objects.db)


def _page_report(run: SyncRun, result: PageResult) -> None:
    """One log line (with JSON fields) and the counters, for a page just committed."""
    logger.info(
        "sync run %s page %d: %d records, %d created, %d updated, %d unchanged, %d skipped",
        run.pk, run.pages, result.records, result.created, result.updated, result.unchanged, result.skipped,
        extra={  # not `created`: a LogRecord's own attribute
            "sync_run": run.pk,
            "page": run.pages,
            "records": result.records,
            "events_created": result.created,
            "events_updated": result.updated,
            "events_unchanged": result.unchanged,
            "records_skipped": result.skipped,
        },
    )  # fmt: skip
    metrics.PAGES.labels(mode=run.mode).inc()
    for name in ("created", "updated", "unchanged", "skipped", "too_old"):
        metrics.RECORDS.labels(mode=run.mode, result=name).inc(getattr(result, name))


def sync_run_execute(
    *,
    run: SyncRun,
    client: EventsProviderClient,
    lock: SyncLock,
    on_page: Callable[[SyncRun, PageResult], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> SyncRun:
    """Fetch and apply every page of the run, then record how it ended.

    Provider errors, a lost lease and a requested stop fail the run (recorded,
    not raised); anything else is recorded and re-raised.
    """
    horizon = past_horizon()
    try:
        for page in client.pages(changed_since=run.since_date):
            result = sync_page_apply(
                run=run, records=page.records, page_url=page.url, lock=lock, horizon=horizon
            )
            _page_report(run, result)
            if on_page is not None:
                on_page(run, result)
            if page.next_url is not None and should_stop():
                raise SyncStopped(
                    f"Stopped by a signal after {run.pages} pages; "
                    "the next incremental run starts from the previous successful one."
                )
    except (ProviderError, SyncLockLost, SyncStopped) as exc:
        return sync_run_finish(run=run, error=str(exc))
    except BaseException as exc:
        sync_run_finish(run=run, error=f"{type(exc).__name__}: {exc}")
        raise
    return sync_run_finish(run=run)
