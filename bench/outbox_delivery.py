"""Outbox delivery benchmark: messages per second to the notifications emulator.

    .venv/bin/python bench/outbox_delivery.py [--messages 10000] [--naive-messages 3000]

Against PostgreSQL (`--server-url`, default postgres://postgres@127.0.0.1:5432),
in a database of its own (events_face_bench_outbox), created and dropped here.
One run measures, against one emulator process:

- ceiling: the emulator's accept rate with a plain keep-alive httpx client
  (pre-built bodies, no database), best of 1, 4 and 16 threads;
- naive: one process that, per message, opens a transaction, locks one row
  (FOR UPDATE SKIP LOCKED), POSTs it, marks it sent and commits: the usual
  outbox loop, sending inside its claiming transaction. Measured with a
  keep-alive client (the baseline for the ratios) and, for context, with a
  new connection per message as with a bare `requests.post`;
- worker x1 and worker x4: `manage.py worker` processes with their defaults,
  started idle; the messages are committed in one transaction;
- latency: one idle worker; messages committed one at a time, ~100 ms apart;
  from just before COMMIT to the emulator's acceptance (same clock).

Rates are (accepted - 1) / (last accepted_at - first accepted_at), taken from
the emulator, so process start-up is not counted for anyone. Results go to
docs/benchmarks.md (## Outbox delivery) by hand.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
from bench.scratch_database import scratch_database_create, scratch_database_drop  # noqa: E402
from events_face.launcher import emulator_start  # noqa: E402

DATABASE = "events_face_bench_outbox"
TOKEN = "bench-token"
OWNER_ID = "8c2d4e6f-1a3b-4c5d-8e7f-9a0b1c2d3e4f"


class Emulator:
    def __init__(self) -> None:
        self.running = emulator_start("notifications", "--token", TOKEN)
        self.url = f"{self.running.base_url}/api/notifications"
        self.http = httpx.Client(timeout=60)

    def reset(self) -> None:
        self.http.post(f"{self.running.base_url}/_control", json={"reset": True})

    def accepted(self) -> list[dict]:
        return self.http.get(self.url).json()

    def rate(self) -> tuple[float, int]:
        times = sorted(datetime.fromisoformat(n["accepted_at"]).timestamp() for n in self.accepted())
        return (len(times) - 1) / (times[-1] - times[0]), len(times)

    def stop(self) -> None:
        self.running.stop()


def body(index: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "owner_id": OWNER_ID,
        "email": f"guest{index}@example.com",
        "message": f"Hello, Guest {index}! You are registered. Your confirmation code: {index:06d}",
    }


def measure_ceiling(emulator: Emulator, *, messages: int, threads: int) -> float:
    emulator.reset()
    bodies = [json.dumps(body(i)).encode() for i in range(messages)]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    with httpx.Client(headers=headers, limits=limits) as client, ThreadPoolExecutor(threads) as pool:
        statuses = set(
            pool.map(lambda content: client.post(emulator.url, content=content).status_code, bodies)
        )
    assert statuses == {201}, statuses
    return emulator.rate()[0]


def fill_outbox(count: int) -> list[str]:
    """Commit `count` messages in one transaction, then NOTIFY, as registrations would."""
    from django.db import connection, transaction

    from events_face.events.notifications import REGISTRATION_NOTIFICATION_TOPIC
    from events_face.outbox.models import OutboxMessage

    rows = []
    for index in range(count):
        message = OutboxMessage(topic=REGISTRATION_NOTIFICATION_TOPIC, payload=body(index))
        message.payload["id"] = str(message.id)
        rows.append(message)
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(rows, batch_size=1000)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify('outbox_message', '')")
    return [str(row.id) for row in rows]


def unsent() -> int:
    from events_face.outbox.models import OutboxMessage

    return OutboxMessage.objects.filter(sent=False).count()


def clear_outbox() -> None:
    from events_face.outbox.models import OutboxMessage

    OutboxMessage.objects.all().delete()


def measure_naive(emulator: Emulator, *, messages: int, keep_alive: bool = True) -> float:
    """One message per transaction, sent while its row lock is held. Without
    keep-alive, each request opens a connection (as `requests.post` does)."""
    from django.db import transaction
    from django.utils import timezone

    from events_face.outbox.models import OutboxMessage

    clear_outbox()
    emulator.reset()
    fill_outbox(messages)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(headers=headers, timeout=10) as http:
        while True:
            with transaction.atomic():
                message = (
                    OutboxMessage.objects.select_for_update(skip_locked=True)
                    .filter(sent=False)
                    .order_by("created_at")
                    .first()
                )
                if message is None:
                    break
                notification = {**message.payload, "owner_id": OWNER_ID}
                if keep_alive:
                    response = http.post(emulator.url, json=notification)
                else:
                    response = httpx.post(emulator.url, json=notification, headers=headers)
                if response.status_code in (201, 409):
                    message.sent, message.sent_at = True, timezone.now()
                    message.save(update_fields=["sent", "sent_at"])
    return emulator.rate()[0]


def start_workers(emulator: Emulator, count: int, **overrides: str) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "NOTIFICATIONS_URL": emulator.url,
        "NOTIFICATIONS_TOKEN": TOKEN,
        "NOTIFICATIONS_OWNER_ID": OWNER_ID,
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    workers = [
        subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=PROJECT_DIR, env=env)
        for _ in range(count)
    ]
    wait_until_listening(count)
    return workers


def wait_until_listening(count: int) -> None:
    from django.db import connection

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'LISTEN%%' AND state = 'idle'"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.1)
    raise TimeoutError("workers did not start")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait(timeout=60) == 0


def measure_workers(emulator: Emulator, *, count: int, messages: int) -> float:
    clear_outbox()
    emulator.reset()
    workers = start_workers(emulator, count)
    try:
        fill_outbox(messages)
        deadline = time.monotonic() + 600
        while unsent() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop_workers(workers)
    rate, accepted = emulator.rate()
    assert accepted == messages and unsent() == 0, (accepted, unsent())
    return rate


def measure_latency(emulator: Emulator, *, messages: int) -> list[float]:
    from django.db import transaction

    from events_face.events.notifications import REGISTRATION_NOTIFICATION_TOPIC
    from events_face.outbox.services import outbox_message_create

    clear_outbox()
    emulator.reset()
    workers = start_workers(emulator, 1)
    committed: dict[str, float] = {}
    try:
        for index in range(messages):
            with transaction.atomic():
                payload = body(index)
                message = outbox_message_create(
                    message_id=uuid.UUID(payload["id"]),
                    topic=REGISTRATION_NOTIFICATION_TOPIC,
                    payload=payload,
                )
                committed[str(message.id)] = time.time()  # just before COMMIT: conservative
            time.sleep(0.1)
        deadline = time.monotonic() + 60
        while unsent() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_workers(workers)
    return sorted(
        datetime.fromisoformat(n["accepted_at"]).timestamp() - committed[n["id"]] for n in emulator.accepted()
    )


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--naive-messages", type=int, default=3_000)
    parser.add_argument("--latency-messages", type=int, default=100)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = scratch_database_create(DATABASE, server_url=args.server_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    os.chdir(PROJECT_DIR)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    emulator = Emulator()
    try:
        ceilings = {
            threads: measure_ceiling(emulator, messages=args.messages, threads=threads)
            for threads in (1, 4, 16)
        }
        ceiling = max(ceilings.values())
        naive = measure_naive(emulator, messages=args.naive_messages)
        naive_no_keep_alive = measure_naive(emulator, messages=args.naive_messages // 2, keep_alive=False)
        one = measure_workers(emulator, count=1, messages=args.messages)
        four = measure_workers(emulator, count=4, messages=args.messages)
        latencies = measure_latency(emulator, messages=args.latency_messages)
    finally:
        emulator.stop()
        from django.db import connection

        connection.close()
        scratch_database_drop(DATABASE, server_url=args.server_url)

    print(
        "ceiling (plain keep-alive client) by threads: "
        + ", ".join(f"{t}: {r:,.0f}/s" for t, r in ceilings.items())
    )
    print("| run | messages/s | / ceiling | / naive |")
    print("| --- | ---: | ---: | ---: |")
    for name, rate in [
        ("ceiling: plain keep-alive client, no database", ceiling),
        ("naive worker (1 process, keep-alive)", naive),
        ("naive worker (1 process, `httpx.post`: new client per message)", naive_no_keep_alive),
        ("`manage.py worker` x 1", one),
        ("`manage.py worker` x 4", four),
    ]:
        print(f"| {name} | {rate:,.0f} | {rate / ceiling:.2f} | {rate / naive:.1f}x |")
    print(
        f"commit-to-delivery latency, idle worker, {len(latencies)} messages: "
        f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
