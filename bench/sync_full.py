"""Benchmark: a full sync of 100,000 events (pages of 1,000) from the provider emulator.

Three ways to write the same pages into the same (emptied) database, each in
its own subprocess so its peak RSS is its own:

- `sync_events`: `manage.py sync_events --all`, the real command (validation,
  one bulk upsert per page, run bookkeeping);
- `update_or_create`: the common approach, a per-record
  `Venue/Event.objects.update_or_create(...)` over the same validated records;
- `executemany` (the floor): the same rows, unvalidated, upserted with raw
  `INSERT ... ON CONFLICT DO UPDATE` through `cursor.executemany`, one
  transaction per page.

All three fetch the pages over HTTP with the same client, so the difference is
the write path. `sync_events` is also run on 10,000 events (memory must not
grow with the number of pages) and once more on 100,000 with nothing changed.

Then the change notices a sync page writes: one page that moves an event with
10,000 and with 100,000 registrants, against the same page for an event with
none. That measurement is bench/door.py's (`change_notices_report`, one
implementation), run here because a sync page pays for it: an event with many
registrants must not make its page slow.

    .venv/bin/python bench/sync_full.py                      # PostgreSQL (creates events_face_bench_sync)
    .venv/bin/python bench/sync_full.py --database sqlite
    .venv/bin/python bench/sync_full.py --change-notices-only --notice-sizes 10000

Prints Markdown tables; the figures in docs/benchmarks.md come from them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.door import change_notices_report, sizes_parse  # noqa: E402
from bench.scratch_database import scratch_database_create, scratch_database_drop, scratch_database_migrate  # noqa: E402

PG_NAME = "events_face_bench_sync"
TOKEN = "bench-token"


# --- one approach, in its own process -------------------------------------------------------------
def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    import django

    django.setup()


def _client():
    from django.conf import settings

    from events_face.integrations.events_provider.client import EventsProviderClient

    return EventsProviderClient(base_url=settings.EVENTS_PROVIDER_URL, token=settings.EVENTS_PROVIDER_TOKEN)


def approach_sync_events() -> None:
    from django.core.management import call_command

    call_command("sync_events", "--all")


def approach_update_or_create() -> None:
    from events_face.events.models import Event, Venue
    from events_face.sync.records import InvalidRecord, event_record_parse

    with _client() as client:
        for page in client.pages():
            for raw in page.records:
                try:
                    record = event_record_parse(raw)
                except InvalidRecord:
                    continue
                if record.place is not None:
                    Venue.objects.update_or_create(
                        id=record.place.id, defaults={"name": record.place.name, "extra": record.place.extra}
                    )
                Event.objects.update_or_create(
                    id=record.id,
                    defaults={
                        "name": record.name,
                        "event_time": record.event_time,
                        "registration_deadline": record.registration_deadline,
                        "status": record.status,
                        "venue_id": record.place.id if record.place else None,
                        "provider_changed_at": record.changed_at,
                    },
                )


VENUE_UPSERT = """
    INSERT INTO events_venue (id, name, extra, created_at, updated_at) VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, extra = EXCLUDED.extra, updated_at = EXCLUDED.updated_at
"""
# calendar_sequence: NOT NULL with no database default; a new event's is 0 (the floor never bumps it).
EVENT_UPSERT = """
    INSERT INTO events_event (id, name, event_time, registration_deadline, status, venue_id,
                              provider_changed_at, created_at, updated_at, calendar_sequence)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0)
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, event_time = EXCLUDED.event_time,
        registration_deadline = EXCLUDED.registration_deadline, status = EXCLUDED.status,
        venue_id = EXCLUDED.venue_id, provider_changed_at = EXCLUDED.provider_changed_at,
        updated_at = EXCLUDED.updated_at
"""


def approach_executemany() -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    with _client() as client:
        for page in client.pages():
            now = timezone.now()
            venues, events = [], []
            for r in page.records:
                place = r["place"]
                if place:
                    extra = {k: v for k, v in place.items() if k not in ("id", "name")}
                    venues.append((place["id"], place["name"], json.dumps(extra), now, now))
                events.append(
                    (r["id"], r["name"], r["event_time"], r["registration_deadline"], r["status"],
                     place["id"] if place else None, r["changed_at"], now, now)
                )  # fmt: skip
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(VENUE_UPSERT, venues)
                cursor.executemany(EVENT_UPSERT, events)


APPROACHES = {
    "sync_events": approach_sync_events,
    "update_or_create": approach_update_or_create,
    "executemany": approach_executemany,
}


def child(name: str) -> None:
    _setup()
    started = time.perf_counter()
    APPROACHES[name]()
    print(json.dumps({"seconds": time.perf_counter() - started}))


# --- the driver --------------------------------------------------------------------------------------
def provider_start(events: int, page_size: int):
    """The provider emulator with `events` events (building a large catalogue takes a while)."""
    from events_face.launcher import emulator_start

    return emulator_start(
        "provider", "--events", str(events), "--seed", "1", "--token", TOKEN, "--page-size", str(page_size),
        ready_timeout=120, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def measure(name: str, env: dict[str, str]) -> dict:
    """Run one approach in a child process: its own timing and its peak RSS (from wait4)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", name], cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{name} failed with exit status {process.returncode}")
    result = json.loads(output.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def empty_tables(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-c", (
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'events_face.config.settings'); "
            "django.setup(); from events_face.events.models import Event, Venue; "
            "from events_face.sync.models import SyncRun; "
            "Event.objects.all().delete(); Venue.objects.all().delete(); SyncRun.objects.all().delete()"
        )],
        cwd=PROJECT_DIR, env=env, check=True,
    )  # fmt: skip


def count_events(env: dict[str, str]) -> int:
    output = subprocess.run(
        [sys.executable, "-c", (
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'events_face.config.settings'); "
            "django.setup(); from events_face.events.models import Event; print(Event.objects.count())"
        )],
        cwd=PROJECT_DIR, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(output.stdout.strip())


def sync_report(args: argparse.Namespace) -> None:
    """The three approaches to a full sync, and sync_events's memory at two sizes, printed."""
    url = scratch_database_create(PG_NAME, vendor=args.database)
    # Every event the emulator serves (some lie 60 days back), as the floor writes them all.
    env = scratch_database_migrate(url, EVENTS_PROVIDER_TOKEN=TOKEN, CLEANUP_AFTER_DAYS="36500")

    rows = []
    emulators = []
    try:
        small = provider_start(args.small, args.page_size)
        emulators.append(small)
        big = provider_start(args.events, args.page_size)
        emulators.append(big)
        small_url, big_url = f"{small.base_url}/api/events/", f"{big.base_url}/api/events/"

        plan = [
            ("sync_events", args.small, small_url, True),
            ("sync_events", args.events, big_url, True),
            ("sync_events (second --all, nothing changed)", args.events, big_url, False),
            ("executemany (floor)", args.events, big_url, True),
        ]
        if not args.skip_naive:
            plan.append(("update_or_create (common approach)", args.events, big_url, True))
        for label, events, provider_url, empty_first in plan:
            if empty_first:
                empty_tables(env)
            name = label.split(" ")[0]
            result = measure(name, {**env, "EVENTS_PROVIDER_URL": provider_url})
            stored = count_events(env)
            rows.append((label, events, result["seconds"], result["peak_rss_mb"], stored))
            print(f"{label}: {events} events, {result['seconds']:.1f}s, {result['peak_rss_mb']:.0f} MB peak, "
                  f"{stored} stored", file=sys.stderr, flush=True)  # fmt: skip
    finally:
        for emulator in emulators:
            emulator.stop()
        scratch_database_drop(PG_NAME, vendor=args.database)

    print("\n| approach | events | wall time | events/s | peak RSS |\n|---|---|---|---|---|")
    for label, events, seconds, rss, _ in rows:
        print(f"| {label} | {events:,} | {seconds:.1f} s | {events / seconds:,.0f} | {rss:.0f} MB |")
    by_label = {label: (events, seconds, rss) for label, events, seconds, rss, _ in rows}
    ours = [(e, s, r) for label, e, s, r, _ in rows if label == "sync_events"]
    (_, _, small_rss), (_, ours_seconds, big_rss) = ours
    floor_seconds = by_label["executemany (floor)"][1]
    print(f"\nsync_events / floor: {ours_seconds / floor_seconds:.2f}x")
    if "update_or_create (common approach)" in by_label:
        naive_seconds = by_label["update_or_create (common approach)"][1]
        print(f"update_or_create / sync_events: {naive_seconds / ours_seconds:.1f}x")
    print(f"peak RSS {args.events:,} - {args.small:,} events: {big_rss - small_rss:+.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=APPROACHES, help=argparse.SUPPRESS)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="event count for the memory comparison")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--skip-naive", action="store_true", help="leave out update_or_create (slow)")
    notices = parser.add_mutually_exclusive_group()
    notices.add_argument("--skip-change-notices", action="store_true", help="leave out the change notices")
    notices.add_argument("--change-notices-only", action="store_true", help="only the change notices")
    parser.add_argument(
        "--notice-sizes", type=sizes_parse, default=[10_000, 100_000], help="registrants of the moved event"
    )
    parser.add_argument("--notice-repeats", type=int, default=5, help="moves per event, of which the median")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    if not args.change_notices_only:
        sync_report(args)
    if not args.skip_change_notices:
        report = change_notices_report(
            database=args.database, sizes=args.notice_sizes, repeats=args.notice_repeats
        )
        print("\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
