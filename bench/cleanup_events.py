"""Benchmark: `cleanup_events` over 200,000 and 1,000,000 past events, one registration each.

Each size is loaded into a database made by the product's `migrate` (no
ANALYZE, nothing else the product does not do), then emptied again by each of:

- `cleanup_events`: `manage.py cleanup_events --days 7`, the real command (batches,
  each its own transaction);
- the floor: the same rows deleted by raw SQL through the driver (psycopg or
  sqlite3) in one transaction: the registrations, the venues left unused, the events;
- the old single-transaction command (optional, `--old`): `QuerySet.delete()` in one
  transaction, which loads every event to collect what cascades.

Each runs as its own process; its wall time is measured from outside (Django's
start-up included, about 1 s) and its peak RSS is the child's `ru_maxrss`
(wait4). `cleanup_events --dry-run` on the same data is the idle reference:
a Django process that counts and deletes nothing. A check after each run
asserts what was deleted and that nothing newer was touched.

    .venv/bin/python bench/cleanup_events.py                                # PostgreSQL, 200k and 1M
    .venv/bin/python bench/cleanup_events.py --database sqlite
    .venv/bin/python bench/cleanup_events.py --sizes 200000 --batch-sizes 500,2000,10000 --old

Prints a Markdown table; the figures in docs/benchmarks.md come from it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.scratch_database import scratch_database_create, scratch_database_drop, scratch_database_migrate  # noqa: E402

DATABASE_NAME = "events_face_bench_cleanup"
KEPT_EVENTS = 1000  # recent and upcoming events (with a registration each) that must survive
EVENTS_PER_VENUE = 100
KEPT_VENUES = 10  # the venues the kept events use; the other venues go with their events
DAYS = 7

# --- the data: old events 8 days to a year ago, then the kept ones ---------------------------------------


def _uuid(kind: str, number: int) -> str:
    return hashlib.md5(f"{kind}{number}".encode()).hexdigest()


POSTGRESQL_LOAD = """
TRUNCATE events_registration, events_event, events_venue;
INSERT INTO events_venue (id, name, extra, created_at, updated_at)
    SELECT md5('venue' || v)::uuid, 'Venue ' || v, '{{}}', now(), now() FROM generate_series(0, {venues} - 1) v;
INSERT INTO events_event (id, name, event_time, registration_deadline, status, venue_id, capacity,
                          provider_changed_at, created_at, updated_at)
    SELECT md5('event' || i)::uuid, 'Past event ' || i,
           now() - interval '8 days' - i * interval '{spacing} seconds', NULL, 'finished',
           md5('venue' || (i % {venues}))::uuid, NULL, now(), now(), now()
    FROM generate_series(0, {old} - 1) i;
INSERT INTO events_event (id, name, event_time, registration_deadline, status, venue_id, capacity,
                          provider_changed_at, created_at, updated_at)
    SELECT md5('kept' || k)::uuid, 'Kept event ' || k,
           now() - interval '6 days' + k * interval '10 minutes', NULL, 'published',
           md5('venue' || (k % {kept_venues}))::uuid, NULL, now(), now(), now()
    FROM generate_series(0, {kept} - 1) k;
INSERT INTO events_registration (id, event_id, user_id, full_name, email, confirmation_code,
                                 idempotency_key, created_at, language)
    SELECT gen_random_uuid(), id, NULL, 'Reg', id || '@example.com', '000000', NULL, now(), 'en'
    FROM events_event;
"""


def load_postgresql(url: str, *, old: int) -> None:
    import psycopg

    venues = max(old // EVENTS_PER_VENUE, KEPT_VENUES)
    spacing = max(1, 365 * 86400 // old)
    sql = POSTGRESQL_LOAD.format(
        venues=venues, old=old, kept=KEPT_EVENTS, kept_venues=KEPT_VENUES, spacing=spacing
    )
    with psycopg.connect(url) as connection:
        connection.execute(sql)


def load_sqlite(path: str, *, old: int) -> None:
    venues = max(old // EVENTS_PER_VENUE, KEPT_VENUES)
    spacing = max(1, 365 * 86400 // old)
    now = datetime.now(UTC).replace(tzinfo=None)

    def stamp(moment: datetime) -> str:
        return moment.isoformat(sep=" ")

    connection = sqlite3.connect(path)
    with connection:
        for table in ("events_registration", "events_event", "events_venue"):
            connection.execute(f"DELETE FROM {table}")
        connection.executemany(
            "INSERT INTO events_venue (id, name, extra, created_at, updated_at) VALUES (?, ?, '{}', ?, ?)",
            ((_uuid("venue", v), f"Venue {v}", stamp(now), stamp(now)) for v in range(venues)),
        )
        events = [
            (_uuid("event", i), f"Past event {i}", now - timedelta(days=8, seconds=i * spacing), "finished",
             _uuid("venue", i % venues))
            for i in range(old)
        ] + [
            (_uuid("kept", k), f"Kept event {k}", now - timedelta(days=6) + timedelta(minutes=10 * k), "published",
             _uuid("venue", k % KEPT_VENUES))
            for k in range(KEPT_EVENTS)
        ]  # fmt: skip
        connection.executemany(
            "INSERT INTO events_event (id, name, event_time, registration_deadline, status, venue_id, capacity, "
            "provider_changed_at, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?, NULL, ?, ?, ?)",
            ((id_, name, stamp(at), status, venue, stamp(now), stamp(now), stamp(now))
             for id_, name, at, status, venue in events),
        )  # fmt: skip
        connection.executemany(
            "INSERT INTO events_registration (id, event_id, user_id, full_name, email, confirmation_code, "
            "idempotency_key, created_at, language) VALUES (?, ?, NULL, 'Reg', ?, '000000', NULL, ?, 'en')",
            (
                (_uuid("registration", n), id_, f"{id_}@example.com", stamp(now))
                for n, (id_, *_) in enumerate(events)
            ),
        )
    connection.close()


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


# --- the approaches, each a child process -------------------------------------------------------------

FLOOR_SQL = [
    "DELETE FROM events_registration WHERE event_id IN (SELECT id FROM events_event WHERE event_time < {cutoff})",
    # Venues an old event uses and no other event does; their events go in the next statement.
    "DELETE FROM events_venue WHERE EXISTS (SELECT 1 FROM events_event e WHERE e.venue_id = events_venue.id "
    "AND e.event_time < {cutoff}) AND NOT EXISTS (SELECT 1 FROM events_event e WHERE e.venue_id = events_venue.id "
    "AND e.event_time >= {cutoff})",
    "DELETE FROM events_event WHERE event_time < {cutoff}",
]


def floor_child(url: str) -> None:
    """The raw floor: three DELETEs in one transaction, through the driver."""
    cutoff = datetime.now(UTC) - timedelta(days=DAYS)
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as connection:
            for statement in FLOOR_SQL:
                connection.execute(statement.format(cutoff="%s"), [cutoff] * statement.count("{cutoff}"))
        return
    connection = sqlite3.connect(sqlite_path(url), isolation_level=None)
    # As Django runs it: foreign keys enforced, checked at commit.
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("BEGIN IMMEDIATE")
    for statement in FLOOR_SQL:
        value = cutoff.replace(tzinfo=None).isoformat(sep=" ")
        connection.execute(statement.format(cutoff="?"), [value] * statement.count("{cutoff}"))
    connection.execute("COMMIT")


def old_command_child() -> None:
    """What `cleanup_events` did before batches: the ORM's collector, one transaction."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from events_face.events.models import Event, Venue

    cutoff = timezone.now() - timedelta(days=DAYS)
    with transaction.atomic():
        events = Event.objects.filter(event_time__lt=cutoff)
        venue_ids = list(events.exclude(venue=None).values_list("venue_id", flat=True).distinct())
        orphaned = list(
            Venue.objects.filter(id__in=venue_ids)
            .exclude(events__event_time__gte=cutoff)
            .values_list("id", flat=True)
        )
        events.delete()
        Venue.objects.filter(id__in=orphaned, events__isnull=True).delete()


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed: {output.decode()}")
    return seconds, usage.ru_maxrss / 1024, output.decode()  # ru_maxrss is in KiB on Linux


def counts(url: str) -> dict[str, int]:
    query = {
        "events": "SELECT count(*) FROM events_event",
        "registrations": "SELECT count(*) FROM events_registration",
        "venues": "SELECT count(*) FROM events_venue",
    }
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as connection:
            return {name: connection.execute(sql).fetchone()[0] for name, sql in query.items()}
    connection = sqlite3.connect(sqlite_path(url))
    try:
        return {name: connection.execute(sql).fetchone()[0] for name, sql in query.items()}
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=["floor", "old"], help=argparse.SUPPRESS)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--sizes", default="200000,1000000", help="past-event counts, comma-separated")
    parser.add_argument(
        "--batch-sizes", default="", help="--batch-size values to run (default: the command's)"
    )
    parser.add_argument("--old", action="store_true", help="also run the old single-transaction command")
    args = parser.parse_args()
    if args.child == "floor":
        floor_child(os.environ["DATABASE_URL"])
        return 0
    if args.child == "old":
        old_command_child()
        return 0

    url = scratch_database_create(DATABASE_NAME, vendor=args.database)
    env = scratch_database_migrate(url)
    manage = [sys.executable, "manage.py", "cleanup_events", "--days", str(DAYS)]
    plan = [("`cleanup_events --dry-run` (idle reference)", [*manage, "--dry-run"], False)]
    for batch_size in [size for size in args.batch_sizes.split(",") if size] or [None]:
        extra = ["--batch-size", batch_size] if batch_size else []
        plan.append(
            (
                f"`cleanup_events{' --batch-size ' + batch_size if batch_size else ''}`",
                [*manage, *extra],
                True,
            )
        )
    plan.append(("floor: raw DELETEs, one transaction", [sys.executable, __file__, "--child", "floor"], True))
    if args.old:
        plan.append(
            (
                "old command: `QuerySet.delete()`, one transaction",
                [sys.executable, __file__, "--child", "old"],
                True,
            )
        )

    rows = []
    try:
        for old in [int(size) for size in args.sizes.split(",")]:
            venues = max(old // EVENTS_PER_VENUE, KEPT_VENUES)
            for label, command, deletes in plan:
                started = time.perf_counter()
                load = load_postgresql if args.database == "postgresql" else load_sqlite
                load(url if args.database == "postgresql" else sqlite_path(url), old=old)
                print(
                    f"loaded {old:,} past events in {time.perf_counter() - started:.1f}s",
                    file=sys.stderr,
                    flush=True,
                )
                seconds, rss, output = run_measured(command, env)
                left = counts(url)
                expected = {"events": KEPT_EVENTS, "registrations": KEPT_EVENTS, "venues": KEPT_VENUES}
                if not deletes:
                    expected = {
                        "events": old + KEPT_EVENTS,
                        "registrations": old + KEPT_EVENTS,
                        "venues": venues,
                    }
                if left != expected:
                    raise SystemExit(f"{label}: left {left}, expected {expected}\n{output}")
                rows.append((label, old, seconds, rss))
                print(
                    f"{label}: {old:,} events, {seconds:.1f}s, {rss:.0f} MB peak", file=sys.stderr, flush=True
                )
    finally:
        scratch_database_drop(DATABASE_NAME, vendor=args.database)

    print(f"\n{args.database}\n\n| approach | past events | wall time | peak RSS |\n|---|---:|---:|---:|")
    for label, old, seconds, rss in rows:
        print(f"| {label} | {old:,} | {seconds:.1f} s | {rss:.0f} MB |")
    floors = {old: seconds for label, old, seconds, _ in rows if label.startswith("floor")}
    for label, old, seconds, _ in rows:
        if label.startswith("`cleanup_events") and "dry-run" not in label:
            print(f"\n{label} at {old:,}: {seconds / floors[old]:.2f}x the floor")
    print(
        json.dumps(
            [
                dict(zip(("approach", "past_events", "seconds", "peak_rss_mb"), row, strict=True))
                for row in rows
            ]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
