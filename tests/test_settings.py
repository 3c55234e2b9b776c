"""Production mode refuses unsafe configuration and passes Django's deploy checks."""

import secrets
import subprocess
import sys

from tests.support.processes import PROJECT_DIR

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


def example_environment() -> dict[str, str]:
    """Every variable of .env.example with its example value, as a copied .env gives."""
    pairs = {}
    for line in (PROJECT_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def test_env_example_as_it_is_gives_a_working_local_configuration():
    result = manage("check", **example_environment(), PATH="/usr/bin:/bin")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_env_example_lists_every_variable_the_settings_read():
    import re

    settings_source = (PROJECT_DIR / "events_face" / "config" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))

    assert read, "the pattern found no variables"
    assert read <= set(example_environment()), read - set(example_environment())
