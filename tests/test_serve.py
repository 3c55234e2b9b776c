"""`make serve`: gunicorn with gunicorn.conf.py, as real processes on the test database.

It comes up with WEB_CONCURRENCY workers that each answer, and a SIGTERM (a
deploy, a supervisor's stop) lets the request in hand finish before it exits 0.
"""

import os
import signal
import subprocess
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from django.db import connection, transaction

from events_face.events.models import Event, Registration
from events_face.launcher import GUNICORN_COMMAND, gunicorn_start
from tests.support.factories import make_event
from tests.support.polling import wait_until
from tests.support.processes import PROJECT_DIR, production_env

pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks")


def test_make_serve_starts_gunicorn_with_the_checked_in_config(tmp_path):
    """The real `make serve`. UV_NO_SYNC and `-o .venv/.synced`: it runs in the installed
    environment as it is, never re-syncing it (the suite itself runs in it)."""
    env = production_env(WEB_CONCURRENCY="2", UV_NO_SYNC="1")
    server = gunicorn_start(
        env, tmp_path / "serve.log", command=["make", "--no-print-directory", "-o", ".venv/.synced", "serve"]
    )
    try:
        assert httpx.get(f"{server.base_url}/api/health/").json() == {"status": "ok"}
        # make -> uv -> the gunicorn master -> its two workers, all in the server's process group.
        gunicorn = wait_until(
            lambda: gunicorn_processes(server.process.pid), timeout=30, message="gunicorn runs"
        )
        assert len(gunicorn) == 3, gunicorn  # the master and WEB_CONCURRENCY workers
    finally:
        # A supervisor stopping the service signals its whole group (systemd's control group, a container).
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=60)
    wait_until(
        lambda: not gunicorn_processes(server.process.pid), timeout=60, message="every gunicorn process exits"
    )
    assert "Shutting down: Master" in server.log()


def gunicorn_processes(group: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) != group:
                    continue
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except (OSError, ProcessLookupError):
                continue
            if b"gunicorn -c gunicorn.conf.py" in command and b"uv run" not in command:
                found.append(int(entry))
    return found


def test_the_makefile_serves_with_this_command():
    """What `make serve` runs is what the other tests (and the Procfile) start."""
    recipe = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.synced", "serve"],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip

    assert recipe[-1].endswith("run --frozen gunicorn -c gunicorn.conf.py")
    assert GUNICORN_COMMAND[1:] == ["-c", "gunicorn.conf.py"]


def test_two_workers_answer_and_sigterm_exits_0(tmp_path):
    server = gunicorn_start(production_env(WEB_CONCURRENCY="2"), tmp_path / "gunicorn.log")
    try:
        assert len(server.worker_pids()) == 2
        for _ in range(4):
            assert httpx.get(f"{server.base_url}/api/health").status_code == 200
    finally:
        code = server.stop()

    assert code == 0, server.log()
    log = server.log()
    assert "Shutting down: Master" in log
    # The access log, on stdout: with DEBUG=false, one JSON object a request.
    assert '"path": "/api/health", "status": 200' in log


@postgresql_only
def test_a_request_in_flight_finishes_after_sigterm(tmp_path):
    """Worker 1 holds a registration waiting on a row lock; worker 2 still answers. On SIGTERM
    the idle worker exits at once, and the registration completes before the server exits 0."""
    event = make_event()
    server = gunicorn_start(production_env(WEB_CONCURRENCY="2"), tmp_path / "gunicorn.log")
    answers = {}
    try:
        token = httpx.post(
            f"{server.base_url}/api/auth/register",
            json={"username": "ada", "email": "ada@example.com", "password": "analytical-engine-1843"},
        ).json()["access"]
        with transaction.atomic():
            Event.objects.select_for_update().get(pk=event.pk)
            registering = threading.Thread(target=register, args=(server.base_url, token, event, answers))
            registering.start()
            wait_until(
                registration_waits_for_the_lock,
                timeout=30,
                message="the registration waits on the event's lock",
            )

            # The other worker answers while the first one waits.
            assert httpx.get(f"{server.base_url}/api/health/").status_code == 200

            workers = server.worker_pids()
            server.process.send_signal(signal.SIGTERM)
            # The idle worker goes at once; the busy one stays with its request, and so does the master.
            wait_until(lambda: len(server.worker_pids()) == 1, timeout=30, message="the idle worker exits")
            assert server.worker_pids()[0] in workers
            assert server.process.poll() is None, "the master waits for the request in hand"
        # The lock is released: the registration goes through.
        registering.join(timeout=60)
        code = server.process.wait(timeout=60)
    finally:
        server.stop()

    assert answers["status"] == 201, answers
    assert Registration.objects.filter(event=event, email="ada@example.com").exists()
    assert code == 0, server.log()


def register(base_url: str, token: str, event, answers: dict) -> None:
    response = httpx.post(
        f"{base_url}/api/events/{event.pk}/register/",
        json={"full_name": "Ada Lovelace", "email": "ada@example.com"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    answers["status"] = response.status_code


def registration_waits_for_the_lock() -> bool:
    with connection.cursor() as cursor:
        # Within a transaction PostgreSQL answers from its first look at the activity; look again.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("WEB_CONCURRENCY", "0"), ("GUNICORN_THREADS", "0"), ("GUNICORN_TIMEOUT", "thirty"), ("PORT", "http")],
)
def test_a_bad_number_stops_the_server_naming_the_variable(name, value):
    """WEB_CONCURRENCY=0 used to start a server that listened and never answered."""
    result = subprocess.run(
        GUNICORN_COMMAND, cwd=PROJECT_DIR, env=production_env(**{name: value}),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode != 0
    assert f"{name} must be a whole number" in result.stderr


def test_the_metrics_folder_loses_its_old_samples_and_nothing_else(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_12345.db").write_bytes(b"a dead worker's samples")
    (folder / "README").write_text("the operator's own file")

    server = gunicorn_start(
        production_env(WEB_CONCURRENCY="1", GUNICORN_METRICS_DIR=str(folder)), tmp_path / "gunicorn.log"
    )
    server.stop()

    assert not (folder / "counter_12345.db").exists()
    assert (folder / "README").read_text() == "the operator's own file"
