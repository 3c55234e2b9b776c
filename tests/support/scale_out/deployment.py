"""The deployment a soak run drives: every process of production, as real processes on 127.0.0.1.

Two gunicorn servers (`gunicorn -c gunicorn.conf.py`, two workers each, one
free port each), outbox workers, one `sync_events --watch`, and the two
emulators. Every process runs in a session of its own, so a signal reaches
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

import httpx

from tests.support.processes import PROJECT_DIR, free_port, wait_for_port

GUNICORN = PROJECT_DIR / ".venv" / "bin" / "gunicorn"
PROVIDER_TOKEN = "scale-out-provider-token"
NOTIFICATIONS_TOKEN = "scale-out-notifications-token"
OWNER_ID = "5c0a7e2d-3b1f-4e6a-9d8c-7f1e2a3b4c5d"
READY_TIMEOUT = 60.0  # seconds for a process to start answering, on a loaded machine
STOP_TIMEOUT = 40.0  # seconds a SIGTERM may take (gunicorn's graceful timeout is 30)


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
        """SIGTERM to the process itself (a gunicorn master stops its workers gracefully); wait."""
        if not self.running():
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL to the whole process group: nothing of it runs on, nothing is cleaned up."""
        if self.process is None or self.process.returncode is not None:
            return
        # Not reaped yet, so the group id is still this process's and cannot name another group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log_tail(self, characters: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except FileNotFoundError:
            return ""


@dataclass
class WebServer:
    service: Service
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        """Until `/api/health/` answers 200 (the server imported Django and reached the database)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self.service.running():
                raise RuntimeError(f"{self.service.name} exited:\n{self.service.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/api/health/", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.service.name} not ready after {READY_TIMEOUT:.0f} s:\n{self.service.log_tail()}")


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
    web: list[WebServer] = field(default_factory=list)
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
            "OUTBOX_HTTP_TIMEOUT": "2",
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
        provider_port, notifications_port = free_port(), free_port()
        provider = self._service("provider", [
            sys.executable, "-m", "events_face.integrations", "provider", "--port", str(provider_port),
            "--events", str(self.provider_events), "--seed", str(self.seed), "--token", PROVIDER_TOKEN,
        ])  # fmt: skip
        notifications = self._service("notifications", [
            sys.executable, "-m", "events_face.integrations", "notifications", "--port", str(notifications_port),
            "--token", NOTIFICATIONS_TOKEN, "--fail-rate", str(self.notifications_fail_rate),
            "--latency-ms", str(self.notifications_latency_ms), "--seed", str(self.seed),
        ])  # fmt: skip
        for service, port in [(provider, provider_port), (notifications, notifications_port)]:
            service.start()
            wait_for_port(port, process=service.process, timeout=READY_TIMEOUT)
        self.provider_url = f"http://127.0.0.1:{provider_port}"
        self.notifications_url = f"http://127.0.0.1:{notifications_port}"
        self.base_env.update(
            EVENTS_PROVIDER_URL=f"{self.provider_url}/api/events/",
            EVENTS_PROVIDER_TOKEN=PROVIDER_TOKEN,
            NOTIFICATIONS_URL=f"{self.notifications_url}/api/notifications",
            NOTIFICATIONS_TOKEN=NOTIFICATIONS_TOKEN,
            NOTIFICATIONS_OWNER_ID=OWNER_ID,
        )

    # --- our processes ---------------------------------------------------------------------------
    def web_start(self, count: int) -> None:
        for number in range(1, count + 1):
            port = free_port()
            service = self._service(
                f"web-{number}", [str(GUNICORN), "-c", "gunicorn.conf.py"],
                GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2",
            )  # fmt: skip
            service.start()
            self.web.append(WebServer(service=service, port=port))

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
        server.service.terminate()
        server.service.start()
        server.wait_ready()

    def web_reload(self, index: int) -> None:
        """A deploy of one server without stopping it: SIGHUP makes the gunicorn master start
        new workers (importing the code anew) and stop the old ones gracefully, while it
        keeps the listening socket. Waits until no old worker is left and it answers."""
        server = self.web[index]
        old_workers = children_of(server.service.pid)
        server.service.process.send_signal(signal.SIGHUP)
        wait_for(lambda: not old_workers & children_of(server.service.pid),
                 what=f"{server.service.name}'s old workers to exit", service=server.service)  # fmt: skip
        server.wait_ready()

    def sync_restart(self) -> None:
        assert self.sync is not None
        self.sync.terminate()
        self.sync.start()

    def process_groups(self) -> dict[int, str]:
        """Process group id -> the part of the deployment it belongs to, for the running processes."""
        parts = {"web": "web servers (gunicorn)", "worker": "outbox workers", "sync": "sync_events",
                 "provider": "emulators", "notifications": "emulators"}  # fmt: skip
        return {service.pid: parts[service.name.split("-")[0]] for service in self.services if service.running()}

    def stop_all(self) -> None:
        """SIGTERM everything still running, then SIGKILL every process group, whatever happened."""
        for service in self.services:
            if service.running():
                with contextlib.suppress(ProcessLookupError):
                    service.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for service in self.services:
            if service.process is not None:
                try:
                    service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    service.kill()


def children_of(pid: int) -> set[int]:
    """The live child processes of `pid` (Linux: read from /proc)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
                children.add(int(entry.name))
    return children


def wait_for(condition: Callable[[], object], *, what: str, service: Service | None = None,
             timeout: float = READY_TIMEOUT) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while not condition():
        if service is not None and not service.running():
            raise RuntimeError(f"{service.name} exited while waiting for {what}:\n{service.log_tail()}")
        if time.monotonic() > deadline:
            detail = f":\n{service.log_tail()}" if service is not None else ""
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(0.1)
