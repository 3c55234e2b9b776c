"""The README's `.env` snippet for the commands outside `make run` works as written: taken from
README.md (README.ru.md has the same one), passed as the environment of `sync_events` and
`worker --once`, against the emulators started with the README's own options. Only the
ports differ: the test's emulators listen on free ports, not on 8101/8102."""

import re
import subprocess

import httpx
import pytest

from events_face.events.models import Event
from events_face.launcher import emulator_start
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_registration
from tests.support.processes import PROJECT_DIR, command_env, manage_run

pytestmark = pytest.mark.django_db(transaction=True)

UPSTREAM_VARIABLES = (
    "EVENTS_PROVIDER_URL",
    "EVENTS_PROVIDER_TOKEN",
    "NOTIFICATIONS_URL",
    "NOTIFICATIONS_TOKEN",
    "NOTIFICATIONS_OWNER_ID",
)
DOTENV_BLOCK = re.compile(r"^```dotenv\n(.*?)^```", re.MULTILINE | re.DOTALL)
# The emulators' command lines in the README: `... -m events_face.integrations KIND --port P ...`.
EMULATOR_LINE = re.compile(
    r"^\.venv/bin/python -m events_face\.integrations (\w+) --port (\d+) (.*)$", re.MULTILINE
)


def snippet(readme: str) -> dict[str, str]:
    blocks = DOTENV_BLOCK.findall((PROJECT_DIR / readme).read_text())
    assert len(blocks) == 1, f"{readme} should have one ```dotenv block"
    lines = [line for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_both_readmes_give_the_same_snippet_naming_every_upstream_variable():
    assert snippet("README.md") == snippet("README.ru.md")
    assert set(snippet("README.md")) == set(UPSTREAM_VARIABLES)


@pytest.fixture
def emulators():
    """The two emulators, with the options the README starts them with (port aside)."""
    started = {}
    for kind, port, options in EMULATOR_LINE.findall((PROJECT_DIR / "README.md").read_text()):
        started[kind] = (port, emulator_start(kind, *options.split()))
    assert set(started) == {"provider", "notifications"}
    yield started
    for _port, emulator in started.values():
        emulator.stop()


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return manage_run(*args, env=env, timeout=120)


def test_the_snippet_lets_sync_events_and_worker_once_run_against_the_emulators(emulators):
    values = snippet("README.md")
    for port, emulator in emulators.values():
        for name, value in values.items():
            values[name] = value.replace(f"http://127.0.0.1:{port}", emulator.base_url)
    # Nothing of the upstream services but the snippet: what a fresh shell with that .env has.
    env = command_env()
    for name in UPSTREAM_VARIABLES:
        env.pop(name, None)
    env.update(values)
    assert "SECRET_KEY" not in values
    # The emulator's events reach 60 days back: every one is kept, past the cleanup horizon too.
    env["CLEANUP_AFTER_DAYS"] = "36500"

    synced = run(env, "sync_events")

    assert synced.returncode == 0, synced.stderr
    assert Event.objects.count() == 300  # the README's --events 300
    make_registration()  # an open event of its own: the worker's message

    delivered = run(env, "worker", "--once")

    assert delivered.returncode == 0, delivered.stderr
    assert OutboxMessage.objects.get().sent
    accepted = httpx.get(f"{emulators['notifications'][1].base_url}/api/notifications", timeout=10).json()
    assert [notification["owner_id"] for notification in accepted] == [values["NOTIFICATIONS_OWNER_ID"]]


def test_without_the_snippet_the_commands_name_what_is_missing(emulators):
    env = command_env()
    for name in UPSTREAM_VARIABLES:
        env[name] = ""  # set but empty, so a developer's own .env cannot fill them in

    worker = run(env, "worker", "--once")
    sync = run(env, "sync_events")

    assert worker.returncode != 0 and "NOTIFICATIONS_URL" in worker.stderr
    assert sync.returncode != 0 and "EVENTS_PROVIDER_URL" in sync.stderr
