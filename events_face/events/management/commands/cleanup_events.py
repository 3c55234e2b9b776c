"""`manage.py cleanup_events [--days 7] [--batch-size N] [--dry-run]`: forget events that are long past.

Deletes events whose event_time is more than N days ago, their registrations,
and venues no remaining event uses; prints the counts. Outbox messages are
not tied to events and stay for the outbox to deliver. With --dry-run nothing
is deleted: the counts are what would be.

The work goes in batches of --batch-size events, each committed on its own
(`past_events_delete`): a run killed halfway keeps what it deleted, and the
next run carries on. In a terminal a progress bar shows it. SIGTERM/SIGINT stop
it after the batch in hand (exit status 1: not finished); a second one acts as usual.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from events_face.core.progress import progress_display
from events_face.core.stopping import stop_on_signals
from events_face.events.cleanup import (
    CLEANUP_BATCH_SIZE,
    CleanupCounts,
    past_events_count,
    past_events_delete,
)


class Command(BaseCommand):
    help = (
        "Delete events that took place more than --days days ago (default CLEANUP_AFTER_DAYS), "
        "with their registrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=settings.CLEANUP_AFTER_DAYS,
            help="age in days past which an event goes (default CLEANUP_AFTER_DAYS, "
            f"now {settings.CLEANUP_AFTER_DAYS}: the sync imports no older event)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=CLEANUP_BATCH_SIZE,
            help=f"events deleted per transaction (default {CLEANUP_BATCH_SIZE})",
        )
        parser.add_argument("--dry-run", action="store_true", help="only report what would be deleted")

    def handle(self, *args, days: int, batch_size: int, dry_run: bool, **options) -> None:
        if days < 0:
            raise CommandError("--days must be zero or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        before = timezone.now() - timedelta(days=days)
        if dry_run:
            self._report("would delete", past_events_count(before=before), days)
            return

        stop = threading.Event()
        committed = CleanupCounts()

        def count_batch(batch: CleanupCounts) -> None:
            nonlocal committed
            committed += batch

        try:
            with stop_on_signals(stop), self._progress(before, count_batch) as on_batch:
                past_events_delete(
                    before=before, batch_size=batch_size, on_batch=on_batch, should_stop=stop.is_set
                )
        except DatabaseError as exc:
            self._report("deleted", committed, days)
            raise CommandError(
                f"A batch failed and was rolled back ({exc}); the batches before it are deleted. "
                "Run cleanup_events again to carry on."
            ) from exc
        self._report("deleted", committed, days)
        if stop.is_set():
            raise CommandError("Stopped by a signal; run cleanup_events again to delete the rest.")

    def _report(self, verb: str, counts: CleanupCounts, days: int) -> None:
        self.stdout.write(
            f"cleanup_events {verb} {counts.events} events older than {days} days, "
            f"{counts.registrations} registrations, {counts.venues} venues"
        )

    @contextmanager
    def _progress(self, before, count_batch):
        """The per-batch callback: `count_batch`, and a live progress bar in a terminal."""
        if not self.stdout.isatty():
            yield count_batch
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

        # A COUNT over the event_time index: the bar's length, not a promise
        # (a sync may add or move events meanwhile).
        total = past_events_count(before=before).events
        columns = (
            TextColumn("cleanup_events"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events, {task.fields[registrations]:,} registrations"),
            TimeRemainingColumn(),
        )
        registrations = 0
        with progress_display(self.stdout._out, columns, total=total, registrations=0) as update:

            def on_batch(batch: CleanupCounts) -> None:
                nonlocal registrations
                count_batch(batch)
                registrations += batch.registrations
                update(advance=batch.events, registrations=registrations)

            yield on_batch
