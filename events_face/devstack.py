"""`make run`: the whole service on one machine, with zero configuration.

Applies migrations, then starts, as child processes, and stops them together
on Ctrl-C or SIGTERM:

- the web server on http://127.0.0.1:8000 (PORT overrides the port);
- the outbox worker (`manage.py worker`);
- the periodic sync (`manage.py sync_events --watch`);
- an emulator for each upstream service that is not configured: when
  EVENTS_PROVIDER_URL is empty, the provider emulator on 127.0.0.1:8101 with
  a few hundred events; when NOTIFICATIONS_URL is empty, the notifications
  emulator on 127.0.0.1:8102. Their tokens are made up for this run only.

Configured services (in the environment or `.env`) are used as they are.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import environ

HOST = "127.0.0.1"
PROJECT_DIR = Path(__file__).resolve().parent.parent
PROVIDER_EMULATOR_PORT = 8101
NOTIFICATIONS_EMULATOR_PORT = 8102
SYNC_INTERVAL_SECONDS = "30"


def _configured(name: str) -> str:
    return os.environ.get(name, "")


def _wait_for_port(port: int, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}; is port {port} already in use?")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not start listening on {HOST}:{port}")


class Stack:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.env = dict(os.environ)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, *args], cwd=PROJECT_DIR, env=self.env)
        self.children.append((name, process))
        return process

    def start_emulator(self, kind: str, port: int, path: str, *args: str) -> tuple[str, str]:
        """Start an upstream emulator with a token made up for this run; (url, token)."""
        token = secrets.token_urlsafe(24)
        process = self.start(
            f"{kind} emulator",
            *("-m", "events_face.integrations", kind, "--port", str(port), "--token", token, *args),
        )
        _wait_for_port(port, process, f"{kind} emulator")
        return f"http://{HOST}:{port}{path}", token

    def stop(self) -> None:
        for _name, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _name, process in self.children:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def watch(self) -> int:
        """Run until a child dies or we are told to stop."""
        while True:
            for name, process in self.children:
                if process.poll() is not None:
                    print(f"\n{name} exited with {process.returncode}; stopping everything.", flush=True)
                    return process.returncode or 1
            time.sleep(0.5)


def main() -> int:
    # The same `.env` settings.py reads; the environment wins over it.
    environ.Env.read_env(PROJECT_DIR / ".env", overwrite=False)
    port = os.environ.get("PORT", "8000")
    base = f"http://{HOST}:{port}"
    stack = Stack()
    lines = []

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"], cwd=PROJECT_DIR)
    if migrate.returncode != 0:
        return migrate.returncode
    try:
        if not _configured("EVENTS_PROVIDER_URL"):
            url, token = stack.start_emulator(
                "provider", PROVIDER_EMULATOR_PORT, "/api/events/", "--events", "300", "--seed", "1"
            )
            stack.env.update(EVENTS_PROVIDER_URL=url, EVENTS_PROVIDER_TOKEN=token)
            lines.append(f"  Provider emulator:      {url}  (EVENTS_PROVIDER_URL not set)")
        if not _configured("NOTIFICATIONS_URL"):
            url, token = stack.start_emulator(
                "notifications", NOTIFICATIONS_EMULATOR_PORT, "/api/notifications"
            )
            stack.env.update(NOTIFICATIONS_URL=url, NOTIFICATIONS_TOKEN=token)
            if not _configured("NOTIFICATIONS_OWNER_ID"):
                stack.env["NOTIFICATIONS_OWNER_ID"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, "events-face.local"))
            lines.append(f"  Notifications emulator: {url}  (GET it to see what was sent)")

        stack.start("web server", "manage.py", "runserver", "--noreload", f"{HOST}:{port}")
        stack.start("outbox worker", "manage.py", "worker")
        stack.start("event sync", "manage.py", "sync_events", "--watch", SYNC_INTERVAL_SECONDS)
        print(
            f"\nEvents Face is running on {base}  (Ctrl-C stops everything)\n"
            f"  API:     {base}/api/events/  (get a token at {base}/api/auth/register)\n"
            f"  Docs:    {base}/api/docs/\n"
            f"  Schema:  {base}/api/schema/\n"
            f"  Admin:   {base}/admin/  (make a login: .tools/bin/uv run python manage.py createsuperuser)\n"
            + "\n".join(lines)
            + "\n",
            flush=True,
        )
        return stack.watch()
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
