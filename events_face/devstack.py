"""`make run`: the whole service on one machine, with zero configuration.

Applies migrations, then starts, as child processes, and stops them together
on Ctrl-C or SIGTERM:

- the web server on http://127.0.0.1:8000 (PORT moves it);
- the outbox worker (`manage.py worker`);
- the periodic sync (`manage.py sync_events --watch`);
- an emulator for each upstream service that is not configured: when
  EVENTS_PROVIDER_URL is empty, the provider emulator on 127.0.0.1:8101
  (PROVIDER_EMULATOR_PORT moves it) with a few hundred events; when
  NOTIFICATIONS_URL is empty, the notifications emulator on 127.0.0.1:8102
  (NOTIFICATIONS_EMULATOR_PORT). Their tokens are made up for this run only.

Configured services (in the environment or `.env`) are used as they are.
Every port is checked before anything starts; one in use stops the run with
one message naming the variable that moves it. Each child runs in a process
group of its own, so Ctrl-C reaches this process alone, which stops each
child once, by SIGTERM, and exits 0.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid

import environ

from events_face.launcher import HOST, PROJECT_DIR, NotReady, emulator_start, port_is_free, process_kill

SYNC_INTERVAL_SECONDS = "30"
STOP_TIMEOUT = 10  # seconds each child gets to finish after SIGTERM


class PortTaken(Exception):
    """A port `make run` needs is taken, or badly set; the message says which variable moves it."""


def _configured(name: str) -> str:
    return os.environ.get(name, "")


def _port_number(name: str, raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise PortTaken(f"{name} must be a port number (1 to 65535), not {raw!r}.")
    return port


def _port_setting(name: str, default: int) -> int:
    return _port_number(name, _configured(name) or str(default))


def ports_planned() -> list[tuple[str, int, str, str]]:
    """(host, port, what listens there, how to move it) for every port this run will listen on."""
    planned = [(HOST, _port_setting("PORT", 8000), "the web server", "set PORT to a free port")]
    if not _configured("EVENTS_PROVIDER_URL"):
        planned.append((
            HOST, _port_setting("PROVIDER_EMULATOR_PORT", 8101), "the provider emulator",
            "set PROVIDER_EMULATOR_PORT to a free port, or EVENTS_PROVIDER_URL to a provider of your own",
        ))  # fmt: skip
    if not _configured("NOTIFICATIONS_URL"):
        planned.append((
            HOST, _port_setting("NOTIFICATIONS_EMULATOR_PORT", 8102), "the notifications emulator",
            "set NOTIFICATIONS_EMULATOR_PORT to a free port, or NOTIFICATIONS_URL to a service of your own",
        ))  # fmt: skip
    for name, what in [
        ("WORKER_METRICS_PORT", "the worker's metrics"),
        ("SYNC_METRICS_PORT", "the sync's metrics"),
    ]:
        if address := _configured(name):
            # As core/metrics.py reads it: a port (every interface) or HOST:PORT.
            host, _, port = address.rpartition(":")
            remedy = f"set {name} to a free port, or leave it empty"
            planned.append((host.strip("[]") or "0.0.0.0", _port_number(name, port), what, remedy))
    return planned


def ports_check() -> None:
    """PortTaken, naming every port in use (by binding to it, as the server will) and its variable.

    Checked before anything starts: a server that cannot bind exits with a traceback, and a
    check that connects would find the other program's listener and take it for ours."""
    problems, seen = [], {}
    for host, port, what, remedy in ports_planned():
        if port in seen:
            problems.append(f"  {what} and {seen[port]} would both use port {port}: {remedy}.")
        elif not port_is_free(port, host):
            problems.append(f"  {what}: port {port} on {host} is in use by another program; {remedy}.")
        seen[port] = what
    if problems:
        raise PortTaken("make run cannot start:\n" + "\n".join(problems))


class Stack:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.env = dict(os.environ)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        # Its own process group: a Ctrl-C reaches devstack alone, which stops each child once, by SIGTERM.
        process = subprocess.Popen(
            [sys.executable, *args], cwd=PROJECT_DIR, env=self.env, stdin=subprocess.DEVNULL, process_group=0
        )
        self.children.append((name, process))
        return process

    def emulator_start(self, kind: str, port: int, path: str, *args: str) -> tuple[str, str]:
        """Start an upstream emulator with a token made up for this run; (url, token)."""
        token = secrets.token_urlsafe(24)
        try:
            emulator = emulator_start(
                # One argument, "--token=...": a token may begin with "-", which argparse would take for an option.
                kind,
                f"--token={token}",
                *args,
                port=port,
                env=self.env,
                stdin=subprocess.DEVNULL,
            )
        except NotReady as exc:
            raise SystemExit(str(exc)) from None
        self.children.append((f"{kind} emulator", emulator.process))
        return f"{emulator.base_url}{path}", token

    def stop(self) -> None:
        """SIGTERM to every child, then SIGKILL to those still running after STOP_TIMEOUT; quietly."""
        # Stopping is under way: a second Ctrl-C must not interrupt it with a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for _name, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for _name, process in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process_kill(process)

    def watch(self) -> int:
        """Run until a child dies or we are told to stop."""
        while True:
            for name, process in self.children:
                if process.poll() is not None:
                    print(f"\n{name} exited with {process.returncode}; stopping everything.", flush=True)
                    return process.returncode or 1
            time.sleep(0.5)


def _stop_requested(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    # SIGINT (Ctrl-C, or sent to the whole group) and SIGTERM both mean: stop everything, exit 0.
    # SIGINT too is set here: a shell without job control starts background jobs with it ignored.
    signal.signal(signal.SIGINT, _stop_requested)
    signal.signal(signal.SIGTERM, _stop_requested)
    # The same `.env` settings.py reads; the environment wins over it.
    environ.Env.read_env(PROJECT_DIR / ".env", overwrite=False)
    stack = Stack()
    try:
        ports_check()
        return _run(stack)
    except PortTaken as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def _run(stack: Stack) -> int:
    port = _port_setting("PORT", 8000)
    base = f"http://{HOST}:{port}"
    lines = []
    # In a group of its own too: a Ctrl-C during the migrations stops devstack, which ends them quietly.
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=PROJECT_DIR,
        stdin=subprocess.DEVNULL,
        process_group=0,
    )
    if migrate.returncode != 0:
        return migrate.returncode
    if not _configured("EVENTS_PROVIDER_URL"):
        url, token = stack.emulator_start(
            "provider",
            _port_setting("PROVIDER_EMULATOR_PORT", 8101),
            "/api/events/",
            "--events",
            "300",
            "--seed",
            "1",
        )
        stack.env.update(EVENTS_PROVIDER_URL=url, EVENTS_PROVIDER_TOKEN=token)
        lines.append(f"  Provider emulator:      {url}  (EVENTS_PROVIDER_URL not set)")
    if not _configured("NOTIFICATIONS_URL"):
        url, token = stack.emulator_start(
            "notifications", _port_setting("NOTIFICATIONS_EMULATOR_PORT", 8102), "/api/notifications"
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


if __name__ == "__main__":
    sys.exit(main())
