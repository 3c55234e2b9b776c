"""Production mode refuses unsafe configuration and passes Django's deploy checks."""

import secrets
import subprocess
import sys

from tests.processes import PROJECT_DIR

PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "events.example.com",
    "DATABASE_URL": "sqlite:////tmp/events-face-deploy-check.sqlite3",
    "PATH": "/usr/bin:/bin",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **PRODUCTION)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_development_secret_key():
    from events_face.config.settings import DEVELOPMENT_SECRET_KEY

    result = manage("check", **PRODUCTION, SECRET_KEY=DEVELOPMENT_SECRET_KEY)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_deploy_checks_are_clean_with_the_documented_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, SECRET_KEY=secrets.token_urlsafe(64))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
