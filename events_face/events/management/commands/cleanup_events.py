"""`manage.py cleanup_events [--days 7] [--dry-run]`: forget events that are long past.

Deletes events whose event_time is more than N days ago, their registrations,
and venues no remaining event uses; prints the counts. Outbox messages are
not tied to events and stay for the outbox to deliver. With --dry-run nothing
is deleted: the counts are what would be.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events_face.events.services import past_events_delete


class Command(BaseCommand):
    help = "Delete events that took place more than --days days ago (default 7), with their registrations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7, help="age in days past which an event goes")
        parser.add_argument("--dry-run", action="store_true", help="only report what would be deleted")

    def handle(self, *args, days: int, dry_run: bool, **options) -> None:
        if days < 0:
            raise CommandError("--days must be zero or more.")
        result = past_events_delete(older_than=timedelta(days=days), dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"cleanup_events {verb} {result.events} events older than {days} days, "
            f"{result.registrations} registrations, {result.venues} venues"
        )
