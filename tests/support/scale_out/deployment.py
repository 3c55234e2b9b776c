"""The deployment a soak run drives: every process of production, as real processes on 127.0.0.1.

Two gunicorn servers (`gunicorn -c gunicorn.conf.py`, two workers each, one
free port each), outbox workers, one `sync_events --watch`, and the two
emulators; the servers and emulators started by `events_face/launcher.py`, as
everywhere else. Every process leads a process group of its own, so a signal reaches
exactly the process it is meant for and `stop_all` can kill a whole process
group (a gunicorn master and its workers) whatever state it is in. Each
process writes its output to a log file of its own, kept after the run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from events_face.launcher import (
    PROJECT_DIR,
    READY_TIMEOUT,
    STOP_TIMEOUT,
    GunicornServer,
    emulator_start,
    process_kill,
    process_stop,
    ready_wait,
)

PROVIDER_TOKEN = "scale-out-provider-token"
NOTIFICATIONS_TOKEN = "scale-out-notifications-token"
OWNER_ID = "5c0a7e2d-3b1f-4e6a-9d8c-7f1e2a3b4c5d"


@dataclass
class Service:
    """One process of the deployment, restartable, with its output in `log_dir/<name>.log`."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        assert not self.running(), f"{self.name} is already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts} at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, cwd=PROJECT_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM to the process itself; wait (SIGKILL to its group past `timeout`)."""
        return process_stop(self.process, timeout=timeout) if self.process else None

    def kill(self) -> None:
        """SIGKILL to the whole process group: nothing of it runs on, nothing is cleaned up."""
        if self.process is not None:
            process_kill(self.process)

    def log_tail(self, characters: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except FileNotFoundError:
            return ""


@dataclass
class Deployment:
    """Starts, restarts and stops the processes; `stop_all` always leaves none running."""

    log_dir: Path
    database_url: str
    cache_url: str
    provider_events: int = 300
    notifications_fail_rate: float = 0.1
    notifications_latency_ms: float = 0.0
    sync_watch_seconds: float = 5.0
    seed: int = 1
    # Set when database_url is a PgBouncer: the same database, reached directly (DATABASE_DIRECT_URL).
    database_direct_url: str = ""
    services: list[Service] = field(default_factory=list)
    web: list[GunicornServer] = field(default_factory=list)
    workers: list[Service] = field(default_factory=list)
    sync: Service | None = None
    provider_url: str = ""
    notifications_url: str = ""

    def __post_init__(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # Production settings, as a deployment runs them (DEBUG off, a real secret), on
        # plain HTTP on loopback; the rate limits high, since all the load comes from 127.0.0.1.
        self.base_env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "CACHE_URL": self.cache_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "AUTH_THROTTLE_RATE": "1000000/min",
            "REGISTRATION_THROTTLE_RATE": "1000000/min",
            # A SIGKILLed worker's messages come back when its leases end: short ones, so
            # that a run of a minute sees them delivered (a lease must outlast 3 requests).
            "OUTBOX_LEASE_SECONDS": "10",
            "OUTBOX_HTTP_DEADLINE_SECONDS": "2",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        if self.database_direct_url:
            self.base_env["DATABASE_DIRECT_URL"] = self.database_direct_url
        # Each gunicorn server gets its own private metrics folder (gunicorn.conf.py).
        self.base_env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    def _service(self, name: str, argv: list[str], **env: str) -> Service:
        service = Service(name=name, argv=argv, env={**self.base_env, **env}, log_dir=self.log_dir)
        self.services.append(service)
        return service

    # --- the upstream emulators ----------------------------------------------------------------
    def emulators_start(self) -> None:
        provider = self._emulator_start("provider",
            "--events", str(self.provider_events), "--seed", str(self.seed), "--token", PROVIDER_TOKEN,
        )  # fmt: skip
        notifications = self._emulator_start("notifications",
            "--token", NOTIFICATIONS_TOKEN, "--fail-rate", str(self.notifications_fail_rate),
            "--latency-ms", str(self.notifications_latency_ms), "--seed", str(self.seed),
        )  # fmt: skip
        self.provider_url, self.notifications_url = provider.base_url, notifications.base_url
        self.base_env.update(
            EVENTS_PROVIDER_URL=f"{self.provider_url}/api/events/",
            EVENTS_PROVIDER_TOKEN=PROVIDER_TOKEN,
            # Keep even the emulator's past events (60 days back): the sync proof compares all of them.
            CLEANUP_AFTER_DAYS="36500",
            NOTIFICATIONS_URL=f"{self.notifications_url}/api/notifications",
            NOTIFICATIONS_TOKEN=NOTIFICATIONS_TOKEN,
            NOTIFICATIONS_OWNER_ID=OWNER_ID,
        )

    def _emulator_start(self, kind: str, *args: str):
        """An emulator, a service of the deployment (its output in its log, stopped by `stop_all`)."""
        service = Service(name=kind, argv=[], env=self.base_env, log_dir=self.log_dir)
        with service.log_path.open("ab") as log:
            emulator = emulator_start(kind, *args, env=self.base_env, stdout=log, stderr=subprocess.STDOUT)
        service.process, service.starts = emulator.process, 1
        self.services.append(service)
        return emulator

    # --- our processes ---------------------------------------------------------------------------
    def web_start(self, count: int) -> None:
        """`count` gunicorn servers (gunicorn.conf.py, two workers each); `wait_ready` on each."""
        for number in range(1, count + 1):
            server = GunicornServer(env={**self.base_env, "WEB_CONCURRENCY": "2"},
                                    log_path=self.log_dir / f"web-{number}.log")  # fmt: skip
            server.start()
            self.web.append(server)

    def workers_start(self, count: int) -> None:
        for number in range(1, count + 1):
            worker = self._service(f"worker-{number}", [sys.executable, "manage.py", "worker"])
            worker.start()
            self.workers.append(worker)

    def sync_start(self) -> None:
        self.sync = self._service(
            "sync", [sys.executable, "manage.py", "sync_events", "--watch", f"{self.sync_watch_seconds:g}"]
        )
        self.sync.start()

    def workers_wait_ready(self) -> None:
        """Until every worker logged that it delivers (it then LISTENs or polls)."""
        for worker in self.workers:
            wait_for(
                lambda worker=worker: "delivering to the senders" in worker.log_tail(20_000),
                what=f"{worker.name} to start", service=worker,
            )  # fmt: skip

    # --- faults ----------------------------------------------------------------------------------
    def web_restart(self, index: int) -> None:
        """A deploy of one server: SIGTERM (gunicorn finishes the requests in hand), then start
        it again on the same port and wait until it answers."""
        server = self.web[index]
        server.stop()
        server.start()
        server.wait_ready()

    def web_reload(self, index: int) -> None:
        """A deploy of one server without stopping it: SIGHUP makes the gunicorn master start
        new workers (importing the code anew) and stop the old ones gracefully, while it
        keeps the listening socket. Waits until no old worker is left and it answers."""
        server = self.web[index]
        old_workers = set(server.worker_pids())
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: not old_workers & set(server.worker_pids()),
                 what=f"web-{index + 1}'s old workers to exit")  # fmt: skip
        server.wait_ready()

    def sync_restart(self) -> None:
        assert self.sync is not None
        self.sync.terminate()
        self.sync.start()

    def process_groups(self) -> dict[int, str]:
        """Process group id -> the part of the deployment it belongs to, for the running processes."""
        parts = {"web": "web servers (gunicorn)", "worker": "outbox workers", "sync": "sync_events",
                 "provider": "emulators", "notifications": "emulators"}  # fmt: skip
        groups = {
            service.pid: parts[service.name.split("-")[0]] for service in self.services if service.running()
        }
        groups.update({server.process.pid: parts["web"] for server in self.web if server.running()})
        return groups

    def stop_all(self) -> None:
        """SIGTERM everything still running, then SIGKILL every process group, whatever happened."""
        processes = [part.process for part in [*self.services, *self.web] if part.process is not None]
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process_kill(process)


def wait_for(condition: Callable[[], object], *, what: str, service: Service | None = None,
             timeout: float = READY_TIMEOUT) -> None:  # fmt: skip
    """Until `condition()` holds; NotReady (with its log's tail) if `service` exits first, or after `timeout`."""
    ready_wait(condition, process=service.process if service else None, timeout=timeout, what=what,
               output=service.log_path if service else None)  # fmt: skip
