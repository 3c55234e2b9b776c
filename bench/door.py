"""Benchmark: the door and around it, at 10,000 and 100,000 registrations of one event.

1. `attendees.csv` streamed by gunicorn as `make serve` runs it (`gunicorn.conf.py`,
   one worker): the worker's peak RSS (VmHWM) after a health request (the floor:
   the same process doing nothing) and after downloading the whole list, with the
   download's time and size. Flat memory means the peak does not grow with the list.
2. Change notices: one sync page that moves the event, applied in-process by the
   product's `sync_page_apply`, against the same page for an event with no
   registrants (the floor); median of 5 moves each.

Data: `migrate`, then `bulk_create` only (nothing the product does not do).

    .venv/bin/python bench/door.py                       # PostgreSQL
    .venv/bin/python bench/door.py --database sqlite --sizes 10000

Prints Markdown tables; docs/benchmarks.md quotes them.
"""

from __future__ import annotations

import argparse
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


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    import django

    django.setup()


def load(size: int) -> None:
    from django.core.management import call_command

    from events_face.events.models import Event, Registration
    from events_face.sync import services, upsert
    from events_face.sync.models import SyncRun

    call_command("migrate", verbosity=0)
    run = services.sync_run_start(mode=SyncRun.Mode.ALL, since_date=None)
    upsert.sync_page_apply(
        run=run, records=[page_record(EVENT_ID, START, 0), page_record(EMPTY_EVENT_ID, START, 0)]
    )
    Registration.objects.filter(event_id=EVENT_ID).delete()
    Registration.objects.bulk_create(
        (
            Registration(
                event_id=EVENT_ID,
                full_name=f"Guest {n}",
                email=f"guest{n}@example.com",
                confirmation_code=f"{n:06d}",
                status=Registration.Status.CONFIRMED,
            )
            for n in range(size)
        ),
        batch_size=5000,
    )
    assert Event.objects.count() == 2


def page_record(event_id: uuid.UUID, start: datetime, version: int) -> dict:
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


def csv_download(database_url: str, size: int) -> dict:
    """Serve with gunicorn.conf.py and one worker; download the list as check-in staff."""
    import httpx
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework_simplejwt.tokens import AccessToken

    user = get_user_model().objects.create_user(username=f"door{size}", password="x" * 12)
    user.groups.add(Group.objects.get(name="Check-in staff"))
    token = str(AccessToken.for_user(user))
    from events_face.launcher import gunicorn_start

    log_dir = PROJECT_DIR / "var" / "bench-door"
    log_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = database_url
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
            "idle": idle,
            "peak": peak_rss_mb(worker),
            "seconds": seconds,
            "mb": len(body.content) / 2**20,
        }
    finally:
        server.stop()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    csv_rows, notice_rows = [], []
    for size in sizes:
        # Each size in a process of its own: a fresh database and a fresh Django.
        if os.environ.get("BENCH_DOOR_CHILD"):
            break
        output = subprocess.check_output(
            [
                sys.executable,
                __file__,
                "--database",
                options.database,
                "--sizes",
                str(size),
                "--repeats",
                str(options.repeats),
            ],
            # As production runs: DEBUG off (Django then keeps no SQL of each statement).
            env={
                **os.environ,
                "BENCH_DOOR_CHILD": "1",
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "SECURE_SSL_REDIRECT": "false",
                "LOG_LEVEL": "WARNING",
            },
            text=True,
        )
        kind, *values = output.strip().splitlines()[-1].split("|")
        csv_rows.append(values[:5])
        notice_rows.append(values[5:])
    if os.environ.get("BENCH_DOOR_CHILD"):
        size = sizes[0]
        database_url = scratch_database_create(DATABASE_NAME, vendor=options.database)
        try:
            setup_django(database_url)
            load(size)
            floor = statistics.median(move_times(EMPTY_EVENT_ID, options.repeats))
            notices = statistics.median(move_times(EVENT_ID, options.repeats))
            from django.db import connections

            connections.close_all()
            csv_result = csv_download(database_url, size)
        finally:
            from django.db import connections

            connections.close_all()
            scratch_database_drop(DATABASE_NAME, vendor=options.database)
        print(
            "row|"
            + "|".join(
                [
                    f"{size:,}",
                    f"{csv_result['idle']:.0f} MB",
                    f"{csv_result['peak']:.0f} MB",
                    f"{csv_result['seconds']:.2f} s",
                    f"{csv_result['mb']:.1f} MB",
                    f"{size:,}",
                    f"{floor * 1000:.1f} ms",
                    f"{notices * 1000:.0f} ms",
                    f"{notices / floor:.0f}x",
                ]
            )
        )
        return
    print(f"\n{options.database}: attendees.csv through gunicorn (one worker)\n")
    print(
        "| registrations | worker RSS after a health request | peak RSS after the download | download | size |"
    )
    print("|---:|---:|---:|---:|---:|")
    for row in csv_rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n{options.database}: one sync page moving the event (median of {options.repeats})\n")
    print(
        "| registrants notified | page, event without registrants (floor) | page with the notices | ratio |"
    )
    print("|---:|---:|---:|---:|")
    for row in notice_rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
