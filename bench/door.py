"""Benchmark: the door and around it, at 10,000 and 100,000 registrations of one event.

1. `attendees.csv` streamed by gunicorn as `make serve` runs it (`gunicorn.conf.py`,
   one worker): the worker's peak RSS (VmHWM) after a health request (the floor:
   the same process doing nothing) and after downloading the whole list, with the
   download's time and size. Flat memory means the peak does not grow with the list.
2. Change notices: one sync page that moves the event, applied in-process by the
   product's `sync_page_apply`, against the same page for an event with no
   registrants (the floor); median of `--repeats` moves each. The sync benchmark
   (`bench/sync_full.py`) runs this part too, through `change_notices_report`.

Each size runs in a child process of its own, on a scratch database of its own
(PostgreSQL: `events_face_bench_door`, dropped after; SQLite: var/events_face_bench_door.sqlite3),
with DEBUG off as production runs. Data: `migrate`, then `bulk_create` in batches
(nothing the product does not do), so 100,000 registrations load in seconds.

    .venv/bin/python bench/door.py                                 # PostgreSQL, 10,000 and 100,000
    .venv/bin/python bench/door.py --database sqlite               # SQLite, 10,000 and 100,000
    .venv/bin/python bench/door.py --parts notices --sizes 10000   # the change notices alone

Prints Markdown tables; docs/benchmarks.md quotes them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.scratch_database import scratch_database_create, scratch_database_drop  # noqa: E402

DATABASE_NAME = "events_face_bench_door"
EVENT_ID = uuid.UUID(int=1)
EMPTY_EVENT_ID = uuid.UUID(int=2)
START = datetime(2031, 6, 1, 18, 0, tzinfo=UTC)
PARTS = ("csv", "notices")
# Registrations built and inserted at a time: memory stays one batch whatever the size.
LOAD_BATCH = 5000


# --- in the child: one size, one scratch database ------------------------------------------------
def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    import django

    django.setup()


def load(size: int) -> float:
    """Migrate; the two events through the product's sync; `size` confirmed registrations of the
    first. Returns the seconds the registrations took to insert."""
    from django.core.management import call_command

    from events_face.events.models import Event, Registration
    from events_face.sync import services, upsert
    from events_face.sync.models import SyncRun

    call_command("migrate", verbosity=0)
    run = services.sync_run_start(mode=SyncRun.Mode.ALL, since_date=None)
    upsert.sync_page_apply(
        run=run, records=[page_record(EVENT_ID, START, 0), page_record(EMPTY_EVENT_ID, START, 0)]
    )
    assert Event.objects.count() == 2
    started = time.perf_counter()
    numbers = iter(range(size))
    while batch := list(itertools.islice(numbers, LOAD_BATCH)):
        Registration.objects.bulk_create(
            [
                Registration(
                    event_id=EVENT_ID,
                    full_name=f"Guest {n}",
                    email=f"guest{n}@example.com",
                    confirmation_code=f"{n:06d}",
                    status=Registration.Status.CONFIRMED,
                )
                for n in batch
            ]
        )
    assert Registration.objects.filter(event_id=EVENT_ID).count() == size
    return time.perf_counter() - started


def page_record(event_id: uuid.UUID, start: datetime, version: int) -> dict:
    """The provider's record of a bench event at `start`; a higher `version` is a later change."""
    return {
        "id": str(event_id),
        "name": "Bench event",
        "place": {"id": str(uuid.UUID(int=1000)), "name": "Hall"},
        "event_time": start.isoformat(),
        "registration_deadline": None,
        "status": "published",
        "changed_at": (datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=version)).isoformat(),
    }


def move_times(event_id: uuid.UUID, repeats: int) -> list[float]:
    """Seconds of each of `repeats` sync pages that move the event an hour later than the last."""
    from events_face.sync import services, upsert
    from events_face.sync.models import SyncRun

    times = []
    for version in range(1, repeats + 1):
        run = services.sync_run_start(mode=SyncRun.Mode.ALL, since_date=None)
        record = page_record(event_id, START + timedelta(hours=version), version)
        started = time.perf_counter()
        upsert.sync_page_apply(run=run, records=[record])
        times.append(time.perf_counter() - started)
    return times


def notices_measure(size: int, repeats: int) -> dict:
    from events_face.events.notifications import EVENT_CHANGED_TOPIC
    from events_face.outbox.models import OutboxMessage

    floor = statistics.median(move_times(EMPTY_EVENT_ID, repeats))
    notices = statistics.median(move_times(EVENT_ID, repeats))
    written = OutboxMessage.objects.filter(topic=EVENT_CHANGED_TOPIC).count()
    assert written == size * repeats, (written, size, repeats)
    return {"floor_seconds": floor, "notices_seconds": notices}


def csv_measure(database_url: str, size: int) -> dict:
    """Serve with gunicorn.conf.py and one worker; download the list as check-in staff."""
    import httpx
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connections
    from rest_framework_simplejwt.tokens import AccessToken

    from events_face.launcher import gunicorn_start

    user = get_user_model().objects.create_user(username=f"door{size}", password="x" * 12)
    user.groups.add(Group.objects.get(name="Check-in staff"))
    token = str(AccessToken.for_user(user))
    connections.close_all()  # the server's worker is the only client while it streams

    log_dir = PROJECT_DIR / "var" / "bench-door"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1", "DATABASE_URL": database_url}
    server = gunicorn_start(env, log_dir / "gunicorn.log")
    try:
        worker = int(subprocess.check_output(["pgrep", "-P", str(server.process.pid)]).split()[0])
        with httpx.Client(base_url=server.base_url, timeout=600) as http:
            http.get("/api/health/")
            idle = peak_rss_mb(worker)
            started = time.perf_counter()
            body = http.get(
                f"/api/events/{EVENT_ID}/attendees.csv", headers={"Authorization": f"Bearer {token}"}
            )
            seconds = time.perf_counter() - started
        assert body.status_code == 200 and body.text.count("\n") == size + 1, body.status_code
        return {
            "idle_mb": idle,
            "peak_mb": peak_rss_mb(worker),
            "seconds": seconds,
            "body_mb": len(body.content) / 2**20,
        }
    finally:
        server.stop()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def child(database: str, size: int, repeats: int, parts: list[str]) -> None:
    """Measure `parts` at one size on a fresh scratch database; print them as one JSON line."""
    database_url = scratch_database_create(DATABASE_NAME, vendor=database)
    try:
        setup_django(database_url)
        result = {"size": size, "load_seconds": load(size)}
        print(f"{database}, {size:,}: loaded in {result['load_seconds']:.1f} s", file=sys.stderr, flush=True)
        if "notices" in parts:
            result.update(notices_measure(size, repeats))
        if "csv" in parts:
            result.update(csv_measure(database_url, size))
    finally:
        from django.db import connections

        connections.close_all()
        scratch_database_drop(DATABASE_NAME, vendor=database)
    print(json.dumps(result))


# --- the driver ------------------------------------------------------------------------------------
def sizes_measure(*, database: str, sizes: list[int], repeats: int, parts: list[str]) -> list[dict]:
    """Each size in a child process of its own: a fresh database and a fresh Django."""
    results = []
    for size in sizes:
        output = subprocess.check_output(
            [
                sys.executable,
                __file__,
                "--child",
                "--database",
                database,
                "--sizes",
                str(size),
                "--repeats",
                str(repeats),
                "--parts",
                ",".join(parts),
            ],
            cwd=PROJECT_DIR,
            # As production runs: DEBUG off (Django then keeps no SQL of each statement).
            env={
                **os.environ,
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "SECURE_SSL_REDIRECT": "false",
                "LOG_LEVEL": "WARNING",
            },
            text=True,
        )
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results


def csv_table(results: list[dict], database: str) -> str:
    lines = [
        f"{database}: attendees.csv through gunicorn (one worker)",
        "",
        "| registrations | worker RSS after a health request | peak RSS after the download | download | size |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {r['idle_mb']:.0f} MB | {r['peak_mb']:.0f} MB | {r['seconds']:.2f} s "
            f"| {r['body_mb']:.1f} MB |"
        )
    return "\n".join(lines)


def change_notices_table(results: list[dict], database: str, repeats: int) -> str:
    lines = [
        f"{database}: one sync page moving the event (median of {repeats})",
        "",
        "| registrants notified | page, event without registrants (floor) | page with the notices | ratio |",
        "|---:|---:|---:|---:|",
    ]
    for r in results:
        floor, notices = r["floor_seconds"], r["notices_seconds"]
        lines.append(
            f"| {r['size']:,} | {floor * 1000:.1f} ms | {notices * 1000:.0f} ms | {notices / floor:.0f}x |"
        )
    return "\n".join(lines)


def change_notices_report(*, database: str, sizes: list[int], repeats: int) -> str:
    """The change-notice measurement alone, as a Markdown table: what bench/sync_full.py prints."""
    results = sizes_measure(database=database, sizes=sizes, repeats=repeats, parts=["notices"])
    return change_notices_table(results, database, repeats)


def sizes_parse(text: str) -> list[int]:
    return [int(size) for size in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--sizes", type=sizes_parse, default=[10_000, 100_000], help="e.g. 10000,100000")
    parser.add_argument("--repeats", type=int, default=5, help="moves per event, of which the median")
    parser.add_argument(
        "--parts", type=lambda text: text.split(","), default=list(PARTS), help="csv,notices (both: default)"
    )
    options = parser.parse_args()
    if unknown := set(options.parts) - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if options.child:
        child(options.database, options.sizes[0], options.repeats, options.parts)
        return
    results = sizes_measure(
        database=options.database, sizes=options.sizes, repeats=options.repeats, parts=options.parts
    )
    if "csv" in options.parts:
        print("\n" + csv_table(results, options.database) + "\n")
    if "notices" in options.parts:
        print("\n" + change_notices_table(results, options.database, options.repeats) + "\n")


if __name__ == "__main__":
    main()
