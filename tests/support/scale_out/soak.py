"""A scale-out soak run: the whole deployment under mixed load while processes die, then proofs.

    result = soak_run(SoakPlan(duration=20, clients=8), log_dir=tmp_path)

The database is the one this process's ORM uses (the test database, or the
benchmark's scratch database), migrated already; every process of the
deployment gets its URL. The run, in order:

1. The emulators start (the notifications service answering
   `notifications_fail_rate` of requests with 500, each after
   `notifications_latency_ms`); `sync_events --watch`, the gunicorn servers and the
   outbox workers start; the first sync fills the catalogue; one open event
   gets a `capacity`.
2. The load runs for `duration` seconds while the provider changes a few events
   every `mutate_every` seconds (never the capacity-limited one, so that it stays
   open). During it, at fixed shares of the duration: one worker is SIGKILLed
   (once it holds leased messages, if it takes some within 5 s) and started again, one web server is restarted (SIGTERM, then started on the same
   port; or, with `web_restart_by_reload`, reloaded with SIGHUP), and the sync
   process is restarted (SIGTERM, during a run if one starts within two pauses
   of the watch, then started again).
3. The provider stops changing; the run waits, workers still running, until the
   outbox is empty (at most `drain_timeout`) and until a sync that started after
   the last change has succeeded (at most `converge_timeout`).
4. The emulators' records are read, every process is stopped, and the four
   proofs are made (`proofs.py`).

Every process is stopped whatever happens (`Deployment.stop_all` in a finally).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import redis
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from events_face.events.models import Event, Registration, Venue
from events_face.events.notifications import REGISTRATION_NOTIFICATION_TOPIC
from events_face.outbox.models import OutboxMessage
from events_face.sync.models import SyncRun
from tests.support.processes import test_database_url
from tests.support.scale_out.cpu import CpuMeter
from tests.support.scale_out.deployment import PROVIDER_TOKEN, Deployment, wait_for
from tests.support.scale_out.load import LoadGenerator, LoadPlan
from tests.support.scale_out.proofs import (
    RestartWindow,
    answers_proof,
    bookings_proof,
    notifications_proof,
    outbox_lags,
    sync_proof,
)
from tests.support.scale_out.report import endpoint_figures, per_second, percentile


@dataclass
class SoakPlan:
    duration: float = 60.0  # seconds of load
    clients: int = 16
    think_seconds: float = 0.0
    actions_per_session: int = 100
    ramp_up_seconds: float = 5.0
    web_servers: int = 2
    workers: int = 3
    sync_watch_seconds: float = 5.0
    provider_events: int = 300
    mutate_every: float = 2.0  # seconds between two changes on the provider
    mutate_count: int = 3  # events changed each time (and one added)
    capacity: int = 25
    notifications_fail_rate: float = 0.1
    # A remote service's answer time; it also keeps messages in a worker's hands long
    # enough for the SIGKILL to catch some.
    notifications_latency_ms: float = 100.0
    cache_url: str = "redis://127.0.0.1:6379/9"
    flush_cache: bool = True
    # When each fault happens, as a share of the duration.
    # How a web server is restarted: SIGTERM and start again, or a SIGHUP reload.
    web_restart_by_reload: bool = False
    worker_kill_at: float = 0.3
    web_restart_at: float = 0.5
    sync_restart_at: float = 0.7
    drain_timeout: float = 60.0  # seconds
    converge_timeout: float = 60.0  # seconds
    seed: int = 1
    # Where the deployment's processes connect. Empty: the test database, directly. Behind
    # PgBouncer (tests/support/pgbouncer.py): DATABASE_URL through it, DATABASE_DIRECT_URL not.
    database_url: str = ""
    database_direct_url: str = ""


class ProviderChanges:
    """Changes a few provider events (new name, status, time, place) every few seconds, on a thread."""

    def __init__(self, provider_url: str, *, every: float, count: int, exclude: str, seed: int) -> None:
        self.url = f"{provider_url}/_control/events"
        self.every, self.count, self.exclude = every, count, exclude
        self.rng = random.Random(seed)
        self.ids = [record["id"] for record in provider_records(provider_url) if record["id"] != exclude]
        self.changes = 0
        self.stopped_at: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-provider-changes", daemon=True)
        self.error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                chosen = self.rng.sample(self.ids, min(self.count, len(self.ids)))
                response = httpx.post(self.url, json={"change_ids": chosen, "add": 1}, timeout=10)
                response.raise_for_status()
                changed = response.json()["events"]
                self.ids += [event["id"] for event in changed if event["id"] not in chosen]
                self.changes += len(changed)
        except Exception as exc:  # the sync proof fails on it, with this message
            self.error = f"{type(exc).__name__}: {exc}"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.stopped_at = timezone.now()


def provider_records(provider_url: str) -> list[dict]:
    """Every record the provider serves now, read page by page as a client would."""
    records, url = [], f"{provider_url}/api/events/"
    with httpx.Client(headers={"Authorization": f"Bearer {PROVIDER_TOKEN}"}, timeout=30) as client:
        while url:
            page = client.get(url).raise_for_status().json()
            records += page["results"]
            url = page["next"]
    return records


def capacity_event_choose(capacity: int) -> str:
    """Give `capacity` places to an event that stays open through the run (ours, not the provider's)."""
    event = (
        Event.objects.open_for_registration(now=timezone.now() + timedelta(days=2))
        .order_by("event_time", "id")
        .first()
    )
    assert event is not None, "the provider's catalogue has no event open for the next two days"
    Event.objects.filter(pk=event.pk).update(capacity=capacity)
    return str(event.pk)


def server_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def soak_run(plan: SoakPlan, *, log_dir: Path, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the soak (module docstring); returns its figures and proofs as JSON-ready data."""
    started_at = datetime.now(UTC)
    load_average_at_start = os.getloadavg()[0]  # the machine is shared: how busy it was already
    if plan.flush_cache:
        redis.Redis.from_url(plan.cache_url).flushdb()
    deployment = Deployment(
        log_dir=log_dir, database_url=plan.database_url or test_database_url(), cache_url=plan.cache_url,
        database_direct_url=plan.database_direct_url,
        provider_events=plan.provider_events, notifications_fail_rate=plan.notifications_fail_rate,
        notifications_latency_ms=plan.notifications_latency_ms,
        sync_watch_seconds=plan.sync_watch_seconds, seed=plan.seed,
    )  # fmt: skip
    timeline: list[dict[str, Any]] = []
    windows: list[RestartWindow] = []
    load: LoadGenerator | None = None
    changes: ProviderChanges | None = None
    faults: ThreadPoolExecutor | None = None
    faults_cancelled = threading.Event()
    cpu: CpuMeter | None = None
    try:
        say(f"starting the deployment (logs in {log_dir})")
        deployment.emulators_start()
        deployment.sync_start()
        deployment.web_start(plan.web_servers)
        deployment.workers_start(plan.workers)
        wait_for(lambda: SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists(),
                 what="the first sync", service=deployment.sync)  # fmt: skip
        capacity_event_id = capacity_event_choose(plan.capacity)
        for server in deployment.web:
            server.wait_ready()
        deployment.workers_wait_ready()

        changes = ProviderChanges(deployment.provider_url, every=plan.mutate_every, count=plan.mutate_count,
                                  exclude=capacity_event_id, seed=plan.seed)  # fmt: skip
        load = LoadGenerator(
            plan=LoadPlan(clients=plan.clients, duration=plan.duration, actions_per_session=plan.actions_per_session,
                          think_seconds=plan.think_seconds, ramp_up_seconds=plan.ramp_up_seconds, seed=plan.seed),
            servers=[server.base_url for server in deployment.web],
            capacity_event_id=capacity_event_id,
            run_tag=uuid.uuid4().hex[:8],
        )  # fmt: skip
        say(f"load: {plan.clients} clients for {plan.duration:g} s")
        cpu = CpuMeter(groups=deployment.process_groups, database=connection.settings_dict["NAME"])
        cpu.start()
        load.start()
        changes.start()

        def note(fault: str, at: float, what: str) -> None:
            timeline.append({"at": at, "fault": fault, "what": what})
            timeline.sort(key=lambda event: event["at"])
            say(f"{at:6.1f} s  {what}")

        def worker_kill() -> None:
            worker = deployment.workers[0]
            pid = worker.pid
            leases = OutboxMessage.objects.filter(sent=False, lease_owner__contains=f":{pid}:")
            # Killed with messages in its hands, if it takes some within a few seconds.
            deadline = time.monotonic() + 5
            while not leases.filter(leased_until__gt=timezone.now()).exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            killed_at = load.elapsed()
            worker.kill()
            stranded = leases.count()
            time.sleep(1)
            worker.start()
            note(
                "worker_kill",
                killed_at,
                f"SIGKILL {worker.name} (pid {pid}) holding {stranded} unsent messages; started again 1 s later",
            )

        def web_restart() -> None:
            index = len(deployment.web) - 1
            start = load.elapsed()
            if plan.web_restart_by_reload:
                deployment.web_reload(index)
                how = "SIGHUP (new workers, same socket), the old workers gone"
            else:
                deployment.web_restart(index)
                how = "SIGTERM, started again, answering"
            windows.append(RestartWindow(server=index, start=start, end=load.elapsed()))
            note(
                "web_restart", start, f"restarted web-{index + 1}: {how} {load.elapsed() - start:.1f} s later"
            )

        def sync_restart() -> None:
            runs = SyncRun.objects.filter(status=SyncRun.Status.RUNNING)
            # Stopped in the middle of a run, if one starts within two pauses of the watch.
            deadline = time.monotonic() + 2 * plan.sync_watch_seconds
            while not runs.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            interrupted = runs.first()
            start = load.elapsed()
            deployment.sync_restart()
            if interrupted is None:
                when = "between runs"
            else:
                interrupted.refresh_from_db()
                when = f"during run {interrupted.pk}, which ended {interrupted.status}"
            note("sync_restart", start, f"restarted sync_events (SIGTERM {when}; started again)")

        def at(share: float, fault: Callable[[], None]) -> Callable[[], None]:
            def scheduled() -> None:
                if faults_cancelled.wait(max(0.0, share * plan.duration - load.elapsed())):
                    return
                try:
                    fault()
                finally:
                    connection.close()  # this thread's own; a test database cannot be dropped under it

            return scheduled

        # Each fault on its own thread, at its own time: a slow one (a server booting on
        # a busy machine) does not push the others past the end of the load.
        faults = ThreadPoolExecutor(3, thread_name_prefix="soak-fault")
        scheduled = [faults.submit(at(plan.worker_kill_at, worker_kill)),
                     faults.submit(at(plan.web_restart_at, web_restart)),
                     faults.submit(at(plan.sync_restart_at, sync_restart))]  # fmt: skip
        for future in scheduled:
            future.result()  # a fault that could not be done ends the run, with its error
        load.join()
        load_seconds = load.seconds
        cpu_seconds = cpu.stop()
        changes.stop()
        say(f"load stopped after {load_seconds:.1f} s; waiting for the outbox and the sync")

        drain_started = time.monotonic()
        deadline = drain_started + plan.drain_timeout
        while OutboxMessage.objects.filter(sent=False).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        drained_after = time.monotonic() - drain_started
        # The first sync to start after the last change; the mirror is complete when it ends.
        last_sync = SyncRun.objects.filter(started_at__gt=changes.stopped_at, status=SyncRun.Status.SUCCEEDED)
        converge_deadline = time.monotonic() + plan.converge_timeout
        while not last_sync.exists() and time.monotonic() < converge_deadline:
            time.sleep(0.2)
        finished = last_sync.order_by("started_at").values_list("finished_at", flat=True).first()
        converged_after = (finished - changes.stopped_at).total_seconds() if finished else None

        served = provider_records(deployment.provider_url)
        notifications_url = f"{deployment.notifications_url}/api/notifications"
        accepted = httpx.get(notifications_url, timeout=30).raise_for_status().json()
        answers = httpx.get(f"{deployment.notifications_url}/_control", timeout=30).json()["answers"]
    finally:
        if faults is not None:  # the faults not yet begun never begin
            faults_cancelled.set()
            faults.shutdown(cancel_futures=True)
        if load is not None:
            load.stop()
            load.join()
        if changes is not None and changes.stopped_at is None:
            changes.stop()
        if cpu is not None:
            cpu.stop()
        deployment.stop_all()
    say("deployment stopped; checking")

    registrations = list(Registration.objects.values(
        "id", "event_id", "email", "full_name", "confirmation_code", "created_at"
    ))  # fmt: skip
    # One registration notification per registration; the sync's changes also send change
    # notices (and events near their start, reminders): those must all be sent too.
    of_registrations = OutboxMessage.objects.filter(topic=REGISTRATION_NOTIFICATION_TOPIC)
    messages = list(of_registrations.values("id", "sent", "failed_at"))
    message_ids = {str(message["id"]) for message in messages}
    others = list(OutboxMessage.objects.exclude(topic=REGISTRATION_NOTIFICATION_TOPIC).values("id", "sent"))
    notifications = notifications_proof(
        registrations=registrations,
        messages=messages,
        accepted=[notification for notification in accepted if notification["id"] in message_ids],
    )
    other_accepted = {notification["id"] for notification in accepted} - message_ids
    unsent_others = [
        message for message in others if not message["sent"] or str(message["id"]) not in other_accepted
    ]
    notifications.summary += (
        f"; {len(others)} other notices (changes, reminders), {len(unsent_others)} not delivered"
    )
    notifications.ok = notifications.ok and not unsent_others
    proofs = [
        notifications,
        bookings_proof(
            registrations=registrations,
            capacity_event_id=capacity_event_id,
            capacity=plan.capacity,
            acknowledged_ids=load.registered_ids,
            samples=load.samples,
        ),  # fmt: skip
        answers_proof(samples=load.samples, windows=windows, load_errors=load.errors),
        sync_proof(
            provider_records=served,
            events=list(
                Event.objects.values(
                    "id",
                    "name",
                    "event_time",
                    "registration_deadline",
                    "status",
                    "venue_id",
                    "provider_changed_at",
                )
            ),  # fmt: skip
            venues=list(Venue.objects.values("id", "name", "extra")),
            mutations=changes.changes,
        ),
    ]
    if changes.error:
        proofs[-1].ok = False
        proofs[-1].summary += f"; the provider's changes stopped early: {changes.error}"

    lags = outbox_lags(registrations=registrations, accepted=accepted)
    lag_ms = [lag * 1000 for _, lag in lags]
    runs = SyncRun.objects.all()
    totals = runs.aggregate(created=Sum("created"), updated=Sum("updated"))
    return {
        "ok": all(proof.ok for proof in proofs),
        "plan": asdict(plan),
        "started_at": started_at.isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_at_start": load_average_at_start,
        "postgresql": server_version(),
        "log_dir": str(log_dir),
        "timeline": timeline,
        "restart_windows": [asdict(window) for window in windows],
        "load": {
            "seconds": load_seconds,
            "endpoints": endpoint_figures(load.samples, load_seconds),
            "per_second": per_second(load.samples, load_seconds),
            "cpu_seconds": cpu_seconds,
        },
        "outbox": {
            "registrations": len(registrations),
            "lag_p50_ms": percentile(lag_ms, 0.50),
            "lag_p99_ms": percentile(lag_ms, 0.99),
            "lag_max_ms": max(lag_ms, default=None),
            "lags": [[(at - load.started_wall).total_seconds(), lag] for at, lag in lags],
            "drained_after_load_seconds": drained_after,
            "emulator_answers": answers,
        },
        "sync": {
            "mutations": changes.changes,
            "runs": dict(Counter(runs.values_list("status", flat=True))),
            "created": totals["created"] or 0,
            "updated": totals["updated"] or 0,
            "converged_after_seconds": converged_after,
        },
        "proofs": {proof.name: proof.as_json() for proof in proofs},
    }
