"""`manage.py sync_events [--all | --date YYYY-MM-DD] [--watch SECONDS]`: mirror the provider's events.

No flag: incremental, from the date the last successful run started (like
`--all` when there is none). Exit status 0 when the run succeeded, 1 when it
failed or could not start (configuration, another sync running). With
`--watch`, runs incremental syncs until SIGTERM/SIGINT. A `--date` in the future is
refused. Events past the cleanup horizon (CLEANUP_AFTER_DAYS) are not imported. A stop is honoured between
pages and also ends a provider request in flight (or a wait before a retry) at
once, failing the run; a failed run there is reported and the next one tried after the pause,
even when it failed on an unexpected error (logged with its traceback). With SYNC_METRICS_PORT
set, `--watch` serves its counters there for Prometheus (`sync/metrics.py`).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from events_face.core.metrics import metrics_server_start
from events_face.core.progress import progress_display
from events_face.core.stopping import stop_on_signals
from events_face.events.statistics import catalogue_statistics_refresh
from events_face.integrations.events_provider.client import EventsProviderClient, is_http_url, retry_policy
from events_face.sync.lock import SyncAlreadyRunning, sync_lock
from events_face.sync.models import SyncRun
from events_face.sync.selectors import sync_incremental_since
from events_face.sync.services import sync_run_execute, sync_run_start
from events_face.sync.upsert import PageResult

logger = logging.getLogger(__name__)


def _date(value: str) -> date:
    try:
        since = date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, not {value!r}.") from None
    today = timezone.now().date()  # UTC, as the incremental starting point
    if since > today:
        raise CommandError(
            f"--date {since.isoformat()} is in the future (today is {today.isoformat()} UTC): "
            "no event can have changed on or after it. Give a date up to today."
        )
    return since


class Command(BaseCommand):
    help = "Mirror events from the events-provider (incremental unless --all or --date)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="sync every event the provider has")
        parser.add_argument(
            "--date", type=str, metavar="YYYY-MM-DD", help="sync events changed on this date or later"
        )
        parser.add_argument(
            "--watch",
            type=float,
            metavar="SECONDS",
            help="repeat incremental syncs, pausing SECONDS between them, until stopped",
        )

    def handle(self, *args, **options) -> None:
        if options["all"] and options["date"]:
            raise CommandError(
                "--all and --date cannot be used together: --all syncs every event, "
                "--date only those changed on or after a date."
            )
        since = _date(options["date"]) if options["date"] else None
        watch = options["watch"]
        if watch is not None and (options["all"] or since):
            raise CommandError(
                "--watch repeats incremental syncs; it cannot be combined with --all or --date."
            )
        if watch is not None and watch < 0:
            raise CommandError("--watch SECONDS must not be negative.")
        self._check_configuration()

        if watch is not None and settings.SYNC_METRICS_PORT:
            host, port = metrics_server_start(address=settings.SYNC_METRICS_PORT, setting="SYNC_METRICS_PORT")
            logger.info("sync metrics on http://%s:%d/metrics", host, port)

        self.stop = threading.Event()
        self.live = self.stdout.isatty()
        with stop_on_signals(self.stop):
            if watch is None:
                if options["all"]:
                    mode = SyncRun.Mode.ALL
                else:
                    mode = SyncRun.Mode.DATE if since else SyncRun.Mode.INCREMENTAL
                run = self._sync(mode=mode, since=since)
                if run.status != SyncRun.Status.SUCCEEDED:
                    raise CommandError(run.error)
                return
            while not self.stop.is_set():
                # Like a request boundary: drop a connection that broke or grew old.
                close_old_connections()
                try:
                    run = self._sync(mode=SyncRun.Mode.INCREMENTAL, since=None)
                    if run.status != SyncRun.Status.SUCCEEDED:
                        self.stderr.write(run.error)
                except CommandError as exc:
                    self.stderr.write(str(exc))
                except DatabaseError as exc:  # the database may come back by the next round
                    self.stderr.write(f"sync failed on a database error: {exc}")
                except Exception:
                    # A bug must not end the watch: the run (if one started) is already
                    # recorded as failed; log it with its traceback and try the next round.
                    # KeyboardInterrupt and SystemExit are not Exceptions: they still stop it.
                    logger.exception("sync failed on an unexpected error; the next round follows the pause")
                self.stop.wait(watch)

    # --- one run -----------------------------------------------------------------------------------
    def _sync(self, *, mode: str, since: date | None) -> SyncRun:
        client = EventsProviderClient(
            base_url=settings.EVENTS_PROVIDER_URL,
            token=settings.EVENTS_PROVIDER_TOKEN,
            timeout=settings.SYNC_HTTP_DEADLINE_SECONDS,
            retry=retry_policy(max_retries=settings.SYNC_MAX_RETRIES, max_backoff=settings.SYNC_BACKOFF_MAX),
            max_pages=settings.SYNC_MAX_PAGES,
            max_page_bytes=settings.SYNC_MAX_PAGE_BYTES,
            # A stop ends a request in flight, or a wait before a retry, within a fraction of a second.
            cancelled=self.stop.is_set,
        )
        started = time.monotonic()
        try:
            with client, sync_lock(lease_seconds=settings.SYNC_LEASE_SECONDS) as lock:
                if mode == SyncRun.Mode.INCREMENTAL:
                    since = sync_incremental_since()
                run = sync_run_start(mode=mode, since_date=since)
                with self._progress(run) as on_page:
                    sync_run_execute(
                        run=run, client=client, lock=lock, on_page=on_page, should_stop=self.stop.is_set
                    )
                if run.created or run.updated:
                    # Fresh statistics for the list's name search (PostgreSQL; see the function).
                    catalogue_statistics_refresh()
        except SyncAlreadyRunning as exc:
            raise CommandError(str(exc)) from None
        self._summary(run, time.monotonic() - started)
        return run

    @contextmanager
    def _progress(self, run: SyncRun):
        """The per-page callback: a live display in a terminal (pages, records, records per second)."""
        if not self.live:
            yield None
            return
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (SpinnerColumn(), TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
        records, started = 0, time.monotonic()
        with progress_display(
            self.stdout._out, columns, detail=f"sync ({run.mode}): waiting for page 1"
        ) as update:

            def on_page(run: SyncRun, result: PageResult) -> None:
                nonlocal records
                records += result.records
                rate = records / max(time.monotonic() - started, 1e-6)
                update(
                    detail=(
                        f"{run.pages:,} pages, {records:,} records, {rate:,.0f}/s "
                        f"[dim](+{run.created:,} ~{run.updated:,} ={run.unchanged:,} skipped {run.skipped:,} "
                        f"too old {run.too_old:,})[/]"
                    )
                )

            yield on_page

    def _summary(self, run: SyncRun, seconds: float) -> None:
        line = ngettext(
            "sync %(status)s (%(mode)s, changed since %(since)s): %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged, %(skipped)d skipped, %(too_old)d past the cleanup horizon; "
            "%(pages)d page in %(seconds).1fs",
            "sync %(status)s (%(mode)s, changed since %(since)s): %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged, %(skipped)d skipped, %(too_old)d past the cleanup horizon; "
            "%(pages)d pages in %(seconds).1fs",
            run.pages,
        ) % {
            "status": run.status,
            "mode": run.mode,
            "since": run.since_date.isoformat() if run.since_date else gettext("the beginning"),
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "skipped": run.skipped,
            "too_old": run.too_old,
            "pages": run.pages,
            "seconds": seconds,
        }
        (self.stdout if run.status == SyncRun.Status.SUCCEEDED else self.stderr).write(line)

    # --- configuration and signals ---------------------------------------------------------------------
    def _check_configuration(self) -> None:
        url = settings.EVENTS_PROVIDER_URL
        if not url:
            raise CommandError(
                "EVENTS_PROVIDER_URL is not set: put the provider's events URL "
                "(e.g. https://provider.example/api/events/) in the environment or .env."
            )
        if not is_http_url(url):
            raise CommandError(f"EVENTS_PROVIDER_URL is not an http(s) URL: {url!r}.")
        if not settings.EVENTS_PROVIDER_TOKEN:
            raise CommandError(
                "EVENTS_PROVIDER_TOKEN is not set: put the provider's token in the environment or .env."
            )
