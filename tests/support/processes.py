"""Real processes for tests, pointed at the current test database: management commands
and the production web server's environment. Starting, awaiting and stopping them
(emulators, gunicorn) is `events_face/launcher.py`'s, as for `make run` and the benchmarks."""

import os
import pty
import secrets
import subprocess
import sys

from django.db import connection

from events_face.launcher import PROJECT_DIR


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
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, **popen_kwargs)


def manage_run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a `manage.py` command to its end with exactly `env`; its exit code and output as text."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def manage_in_terminal(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run a `manage.py` command under a pseudo-terminal, as an operator would; (exit code, all it wrote)."""
    controller, terminal = pty.openpty()
    process = manage(*args, env=env, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(timeout=timeout), output.decode(errors="replace")


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
