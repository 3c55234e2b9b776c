"""Real processes for tests: emulators on 127.0.0.1 and management commands
pointed at the current test database."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, process: subprocess.Popen | None = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Emulator:
    process: subprocess.Popen
    port: int
    base_url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_emulator(kind: str, *args: str) -> Emulator:
    """Start `python -m events_face.integrations KIND --port P ARGS...` and wait until it listens."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "events_face.integrations", kind, "--port", str(port), *args],
        cwd=PROJECT_DIR,
    )
    try:
        wait_for_port(port, process=process)
    except Exception:
        process.kill()
        raise
    return Emulator(process=process, port=port, base_url=f"http://127.0.0.1:{port}")


def test_database_url() -> str:
    """DATABASE_URL of the database the running test uses (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def command_env(**overrides: str) -> dict[str, str]:
    """Environment for a `manage.py` subprocess that works on the test database."""
    env = {**os.environ, "DATABASE_URL": test_database_url(), "PYTHONUNBUFFERED": "1"}
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], **popen_kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, **popen_kwargs
    )
