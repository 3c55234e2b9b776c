"""The production web server in tests: gunicorn with the checked-in gunicorn.conf.py,
as `make serve` runs it, on a free port, against the test database."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.processes import PROJECT_DIR, command_env, free_port

# What `make serve` starts once collectstatic is done (the Makefile's last line runs it through uv).
GUNICORN_COMMAND = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
READY_TIMEOUT = 60.0  # seconds: two workers importing Django on a busy machine


def production_env(**overrides: str) -> dict[str, str]:
    """A production configuration (DEBUG off) on the test database, served over plain HTTP.

    The HTTPS redirect is off: the tests talk to the server directly, as a load
    balancer that terminates TLS would.
    """
    return command_env(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        **overrides,
    )


@dataclass
class WebServer:
    process: subprocess.Popen
    port: int
    log_path: Path
    _stopped: bool = field(default=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The master's children: its workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/api/health/", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.base_url} not healthy after {READY_TIMEOUT:.0f}s:\n{self.log()[-3000:]}")

    def stop(self, *, timeout: float = 60.0) -> int:
        """SIGTERM, as a supervisor sends it; the exit status (SIGKILL only if it hangs past `timeout`)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def web_server_start(env: dict[str, str], log_path: Path, *, command: list[str] | None = None) -> WebServer:
    """Start gunicorn (or `command`) with PORT set to a free port; wait until /api/health/ answers 200."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command or GUNICORN_COMMAND,
            cwd=PROJECT_DIR,
            env={**env, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a test can stop everything it started
        )
    server = WebServer(process=process, port=port, log_path=log_path)
    try:
        server.wait_ready()
    except Exception:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return server
