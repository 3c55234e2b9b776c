"""The checked-in process definitions (Procfile, deploy/systemd/) start a working installation.

Each file is parsed and every command it names is run as a real process on the
test database, with the emulators as the upstream services: the one-shot
commands (migrate, cleanup) exit 0; the web server answers its health check,
a worker delivers a notification, the sync mirrors the provider; then each
long-running process gets SIGTERM, as its supervisor would send it, and exits 0.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from events_face.events.models import Event
from events_face.launcher import emulator_start, free_port, url_answers_200
from events_face.sync.models import SyncRun
from tests.support.outbox import OWNER_ID, NotificationsService, make_message
from tests.support.outbox import TOKEN as NOTIFICATIONS_TOKEN
from tests.support.polling import wait_until
from tests.support.processes import PROJECT_DIR, production_env
from tests.support.sync import TOKEN as PROVIDER_TOKEN
from tests.support.sync import Provider

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDER_EVENTS = 12
# Where the systemd units expect the checkout, and its virtualenv's bin folder.
INSTALL_DIR = "/srv/events-face"
VENV_BIN = Path(sys.executable).parent


@dataclass
class Entry:
    """One process a definition names: a long-running one, or a one-shot list of commands."""

    name: str
    commands: list[list[str]]
    one_shot: bool
    environment: dict[str, str]

    @property
    def role(self) -> str:
        text = " ".join(" ".join(command) for command in self.commands)
        for role, marker in [("web", "gunicorn"), ("worker", "manage.py worker"), ("sync", "sync_events")]:
            if marker in text and not self.one_shot:
                return role
        assert self.one_shot, f"{self.name}: a long-running process of no known role: {text}"
        return "one-shot"


def procfile_entries() -> list[Entry]:
    """`name: command` lines; a Procfile runner (Heroku, honcho) runs each command with a shell."""
    entries = []
    for line in (PROJECT_DIR / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            # bash, like Heroku: a lone command replaces the shell, so signals reach it.
            entries.append(
                Entry(name.strip(), [["bash", "-c", command.strip()]], name.strip() == "release", {})
            )
    return entries


def unit_service_section(path: Path) -> dict[str, list[str]]:
    """The [Service] section of a unit file: each key with all its values, in order (ExecStart repeats)."""
    section, values = None, {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def systemd_entries() -> list[Entry]:
    entries = []
    for path in sorted((PROJECT_DIR / "deploy" / "systemd").glob("*.service")):
        service = unit_service_section(path)
        assert service["WorkingDirectory"] == [INSTALL_DIR], path.name
        commands = [
            # systemd runs no shell: the line is split into arguments.
            [part.replace(f"{INSTALL_DIR}/.venv/bin", str(VENV_BIN)) for part in shlex.split(line)]
            for line in service["ExecStart"]
        ]
        environment = dict(item.split("=", 1) for item in service.get("Environment", []))
        entries.append(Entry(path.name, commands, service.get("Type") == ["oneshot"], environment))
    return entries


@pytest.fixture
def upstreams():
    provider = Provider(
        emulator_start("provider", "--events", str(PROVIDER_EVENTS), "--seed", "3", "--token", PROVIDER_TOKEN)
    )
    notifications = NotificationsService(emulator_start("notifications", "--token", NOTIFICATIONS_TOKEN))
    yield provider, notifications
    provider.emulator.stop()
    notifications.close()


@pytest.mark.parametrize("definition", ["Procfile", "systemd"])
def test_every_process_the_definition_names_comes_up_and_stops_cleanly(definition, upstreams, tmp_path):
    provider, notifications = upstreams
    entries = procfile_entries() if definition == "Procfile" else systemd_entries()
    roles = {entry.role for entry in entries}
    assert {"web", "worker", "sync", "one-shot"} <= roles, roles
    port = free_port()
    env = production_env(
        PATH=f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        EVENTS_PROVIDER_URL=provider.url,
        # Keep even the emulator's past events (60 days back): "the mirror" is all of them.
        CLEANUP_AFTER_DAYS="36500",
        EVENTS_PROVIDER_TOKEN=PROVIDER_TOKEN,
        NOTIFICATIONS_URL=notifications.url,
        NOTIFICATIONS_TOKEN=NOTIFICATIONS_TOKEN,
        NOTIFICATIONS_OWNER_ID=OWNER_ID,
        OUTBOX_POLL_INTERVAL="0.2",
    )

    for entry in [entry for entry in entries if entry.one_shot]:
        for command in entry.commands:
            result = subprocess.run(
                command, cwd=PROJECT_DIR, env={**env, **entry.environment},
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert result.returncode == 0, f"{entry.name}: {command}\n{result.stdout}{result.stderr}"

    running = {}
    try:
        for entry in [entry for entry in entries if not entry.one_shot]:
            (command,) = entry.commands
            with (tmp_path / f"{entry.name}.log").open("wb") as log:
                running[entry.name] = subprocess.Popen(
                    command, cwd=PROJECT_DIR, env={**env, **entry.environment},
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip

        message = make_message()
        wait_until(
            lambda: url_answers_200(f"http://127.0.0.1:{port}/api/health/"),
            timeout=60,
            message="the web server answers its health check",
        )
        wait_until(
            lambda: str(message.id) in notifications.accepted_ids(), timeout=60, message="a worker delivers"
        )
        wait_until(
            lambda: (
                SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists()
                and Event.objects.count() == PROVIDER_EVENTS
            ),
            timeout=60,
            message="the sync mirrors the provider",
        )
        for name, process in running.items():
            assert process.poll() is None, f"{name} exited early:\n{log_text(tmp_path, name)}"
    finally:
        for process in running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in running.items():
            try:
                codes[name] = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()

    for name, code in codes.items():
        assert code == 0, f"{name} exited {code} on SIGTERM:\n{log_text(tmp_path, name)}"


def log_text(tmp_path: Path, name: str) -> str:
    return (tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]
