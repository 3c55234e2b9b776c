"""`make run` (events_face/devstack.py) as a user runs it: the real `python -m
events_face.devstack`, on a SQLite file of the test's own, on free ports.

Starting it while another program holds one of its ports says which variable
moves that port and starts nothing; stopping it, by Ctrl-C (SIGINT to its whole
process group, as a terminal sends it) or by SIGTERM, is silent and exits 0.
"""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from events_face.launcher import PROJECT_DIR, emulator_start, free_port, port_is_free, url_answers_200
from tests.support.polling import wait_until

STARTUP_TIMEOUT = 180  # seconds: migrate on a new database, two emulators and three Django processes


def devstack_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Zero configuration, as on a new checkout, but on free ports and a database of this test's own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EVENTS_PROVIDER_", "NOTIFICATIONS_", "DJANGO_", "PROMETHEUS_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'devstack.sqlite3'}",
        PORT=str(free_port()),
        PROVIDER_EMULATOR_PORT=str(free_port()),
        NOTIFICATIONS_EMULATOR_PORT=str(free_port()),
        WORKER_METRICS_PORT="",
        SYNC_METRICS_PORT="",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def devstack_run(env: dict[str, str], output: Path, **popen) -> subprocess.Popen:
    with output.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "events_face.devstack"], cwd=PROJECT_DIR, env=env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen,
        )  # fmt: skip


def test_ports_in_use_are_named_with_their_variable_and_nothing_starts(tmp_path):
    # The provider port held by a standalone emulator (as the README starts one), the
    # notifications port by a listener on every interface.
    other_emulator = emulator_start("provider", "--events", "3")
    holder = socket.socket()
    holder.bind(("0.0.0.0", 0))
    holder.listen()
    env = devstack_env(
        tmp_path,
        PROVIDER_EMULATOR_PORT=str(other_emulator.port),
        NOTIFICATIONS_EMULATOR_PORT=str(holder.getsockname()[1]),
    )
    output = tmp_path / "devstack.log"
    try:
        devstack = devstack_run(env, output, start_new_session=True)
        try:
            code = devstack.wait(timeout=60)
        finally:
            if devstack.poll() is None:  # it started after all: it and whatever it started go
                os.killpg(devstack.pid, signal.SIGKILL)
                devstack.wait()
    finally:
        other_emulator.stop()
        holder.close()

    text = output.read_text()
    assert code != 0, text
    assert f"port {other_emulator.port}" in text and "PROVIDER_EMULATOR_PORT" in text, text
    assert f"port {env['NOTIFICATIONS_EMULATOR_PORT']}" in text and "NOTIFICATIONS_EMULATOR_PORT" in text, (
        text
    )
    assert "Traceback" not in text and "Errno" not in text, text
    assert "is running" not in text, text
    # Checked before anything started: not even the migrations ran.
    assert not (tmp_path / "devstack.sqlite3").exists()


def sigint_to_group(devstack: subprocess.Popen) -> None:
    os.killpg(devstack.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground group


def sigterm_to_devstack(devstack: subprocess.Popen) -> None:
    devstack.send_signal(signal.SIGTERM)  # a supervisor, or `kill`


@pytest.mark.parametrize(
    ("stop", "sigint_ignored"),
    [
        pytest.param(sigint_to_group, False, id="ctrl-c"),
        # A shell without job control starts a background job with SIGINT ignored.
        pytest.param(sigint_to_group, True, id="sigint-to-a-background-job"),
        pytest.param(sigterm_to_devstack, False, id="sigterm"),
    ],
)
def test_stopping_is_silent_and_exits_0(tmp_path, stop, sigint_ignored):
    env = devstack_env(tmp_path, LOG_LEVEL="INFO")
    output = tmp_path / "devstack.log"
    devstack = devstack_run(
        env, output,
        start_new_session=True,  # its own group, as the terminal's foreground job
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
    )  # fmt: skip
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_until(
            lambda: devstack.poll() is not None or (url_answers_200(f"{base}/api/health/") and "outbox worker" in output.read_text()),
            timeout=STARTUP_TIMEOUT, message="make run is up: the web server answers and the worker runs",
        )  # fmt: skip
        assert devstack.poll() is None, output.read_text()

        stop(devstack)
        code = devstack.wait(timeout=60)
    finally:
        if devstack.poll() is None:
            os.killpg(devstack.pid, signal.SIGKILL)
            devstack.wait()

    text = output.read_text()
    assert code == 0, text
    assert "Traceback" not in text and "OSError" not in text, text
    assert "exited with" not in text, text  # no child was taken for one that died on its own
    # Every child is gone: their ports are free again.
    for name in ("PORT", "PROVIDER_EMULATOR_PORT", "NOTIFICATIONS_EMULATOR_PORT"):
        assert port_is_free(int(env[name])), f"{name} still taken:\n{text}"


def test_an_emulator_token_that_begins_with_a_dash_is_still_one_argument(monkeypatch):
    """secrets.token_urlsafe begins with "-" once in 64 runs; argparse took it for an option."""
    from events_face import devstack
    from events_face.launcher import free_port

    monkeypatch.setattr(devstack.secrets, "token_urlsafe", lambda nbytes: "-starts-with-a-dash")
    stack = devstack.Stack()
    try:
        # Before: "argument --token: expected one argument", and make run stopped (SystemExit).
        url, token = stack.emulator_start("notifications", free_port(), "/api/notifications")
        assert token == "-starts-with-a-dash" and url.startswith("http://127.0.0.1:")
    finally:
        for _name, process in stack.children:
            process.terminate()
            process.wait(timeout=30)
