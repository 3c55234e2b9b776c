"""Starting the project's own processes on 127.0.0.1, knowing when they answer, stopping them.

The one home of: a free port (`free_port`), whether a port can be taken
(`port_is_free`, by binding, as a server would), waiting until a process
listens (`port_wait`), the upstream emulators (`emulator_start`) and the
production web server (`gunicorn_start`). `make run` (devstack), the tests
(tests/support/), the scale-out soak and the benchmarks (bench/) all use it.

gunicorn is always started as `make serve` starts it: `gunicorn -c
gunicorn.conf.py`, every setting through the environment variables that file
reads (GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_THREADS, ...; see
.env.example), so what the tests and benchmarks run is what production runs.

Standard library and httpx only: `make run` imports it before Django.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
PROJECT_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0  # seconds for a process to start answering: Django imports on a loaded machine
STOP_TIMEOUT = 40.0  # seconds a SIGTERM may take: gunicorn's graceful timeout is 30 by default
POLL_INTERVAL = 0.1  # seconds between two looks at a process that is starting
# What `make serve` runs once collectstatic is done (the Makefile's last line, through uv).
GUNICORN_COMMAND = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]


class NotReady(RuntimeError):
    """A process exited, or did not answer in time; the message ends with its output's tail."""


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice); another process may take it first."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on host:port now: binding tells, connecting does not
    (a listener on another address of the port refuses a connection to this one)."""
    with socket.socket() as probe:
        # As the servers themselves bind: a connection of a process that just ended does not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def port_wait(
    port: int,
    *,
    process: subprocess.Popen | None = None,
    timeout: float = READY_TIMEOUT,
    output: Path | None = None,
) -> None:
    """Until something accepts connections on 127.0.0.1:port; NotReady if `process` exits first or time runs out."""

    def listening() -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return True
        except OSError:
            return False

    ready_wait(listening, process=process, timeout=timeout, what=f"listening on {HOST}:{port}", output=output)


def ready_wait(
    ready: Callable[[], object],
    *,
    process: subprocess.Popen | None,
    timeout: float,
    what: str,
    output: Path | None = None,
) -> None:
    """Until `ready()` holds; NotReady, ending with `output`'s tail, if `process` exits first
    or after `timeout` seconds. Looks every POLL_INTERVAL: a condition, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        # The exit is checked first: a port another program holds answers too.
        if process is not None and process.poll() is not None:
            raise NotReady(f"process exited with {process.returncode} before {what}{_tail(output)}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise NotReady(f"not {what} after {timeout:.0f}s{_tail(output)}")
        time.sleep(POLL_INTERVAL)


def url_answers_200(url: str) -> bool:
    """Whether a GET of `url` answers 200 now (no answer: False)."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _tail(output: Path | None, characters: int = 3000) -> str:
    if output is None:
        return ""
    try:
        return ":\n" + output.read_text(errors="replace")[-characters:]
    except FileNotFoundError:
        return ""


def process_stop(process: subprocess.Popen, *, timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM to the process, as a supervisor sends it; its exit status. If it has not
    exited after `timeout`, SIGKILL to its whole process group (it must lead one)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process_kill(process)
    return process.returncode


def process_kill(process: subprocess.Popen) -> None:
    """SIGKILL to the process group `process` leads: nothing of it runs on, nothing is cleaned up."""
    if process.returncode is None:
        # Not reaped yet, so the group id is still this process's and cannot name another group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Emulator:
    """An upstream emulator (`python -m events_face.integrations KIND`) listening on `port`."""

    process: subprocess.Popen
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> int:
        return process_stop(self.process, timeout=5)


def emulator_start(
    kind: str, *args: str, port: int | None = None, ready_timeout: float = READY_TIMEOUT, **popen: object
) -> Emulator:
    """Start `python -m events_face.integrations KIND --port PORT ARGS...` (a free port unless
    given); return once it listens. `popen`: more subprocess.Popen arguments (env, output)."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "events_face.integrations", kind, "--port", str(port), *args],
        cwd=PROJECT_DIR,
        process_group=0,  # its own group: a Ctrl-C meant for the caller does not reach it
        **popen,
    )
    try:
        port_wait(port, process=process, timeout=ready_timeout)
    except NotReady as exc:
        process_kill(process)
        raise NotReady(f"{kind} emulator: {exc}") from None
    return Emulator(process=process, port=port)


@dataclass
class GunicornServer:
    """`gunicorn -c gunicorn.conf.py` on 127.0.0.1:port with `env`, its output appended to `log_path`
    (its error output to `error_log_path` when given: gunicorn's own lines and Django's).

    The master leads a session of its own, so a signal meant for the caller does not reach
    it, and `stop` can kill it and its workers together whatever state they are in.
    """

    env: dict[str, str]
    log_path: Path
    error_log_path: Path | None = None
    port: int = field(default_factory=free_port)
    # Another way to the same command (the tests of `make serve` give `make serve` itself).
    command: list[str] = field(default_factory=lambda: list(GUNICORN_COMMAND))
    # What answers 200 once the server is ready (the benchmark's floor has no health check).
    ready_path: str = "/api/health/"
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Start the server (again, after `stop`: on the same port); `wait_ready` waits until it answers."""
        assert not self.running(), "gunicorn is already running"
        self.starts += 1
        error_log = self.error_log_path or self.log_path
        with self.log_path.open("ab") as stdout, error_log.open("ab") as stderr:
            if self.starts > 1:
                stderr.write(f"--- start {self.starts} at {time.strftime('%H:%M:%S')}\n".encode())
                stderr.flush()
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_DIR,
                env={**self.env, "GUNICORN_BIND": f"{HOST}:{self.port}"},
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )

    def wait_ready(self, *, timeout: float = READY_TIMEOUT) -> None:
        """Until `ready_path` (/api/health/: Django imported, the database reached) answers 200;
        NotReady if it exits first."""

        ready_wait(
            lambda: url_answers_200(f"{self.base_url}{self.ready_path}"), process=self.process, timeout=timeout, what=f"healthy at {self.base_url}",
            output=self.error_log_path or self.log_path,
        )  # fmt: skip

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM to the master (it stops its workers gracefully); the exit status."""
        return process_stop(self.process, timeout=timeout) if self.process else None

    def kill(self) -> None:
        if self.process is not None:
            process_kill(self.process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The master's children: its workers (Linux: read from /proc)."""
        pid = self.process.pid
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def gunicorn_start(env: dict[str, str], log_path: Path, **options) -> GunicornServer:
    """Start gunicorn with gunicorn.conf.py and `env` on a free port; return once it answers
    (`options`: GunicornServer's other fields: error_log_path, command, ready_path)."""
    server = GunicornServer(env=env, log_path=log_path, **options)
    server.start()
    try:
        server.wait_ready()
    except Exception:
        server.kill()
        raise
    return server
