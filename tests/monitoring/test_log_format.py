"""LOG_FORMAT: one switch for every process, json in production, text for development."""

import json
import secrets
import subprocess

import pytest

from tests.support.processes import manage_run

PRINT_A_LOG_LINE = (
    "import logging; from django.conf import settings; "
    "logging.getLogger('events_face.check').warning('format is %s', settings.LOG_FORMAT)"
)


def shell(**env: str) -> subprocess.CompletedProcess:
    return manage_run(
        "shell",
        "-c",
        PRINT_A_LOG_LINE,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:////tmp/events-face-log-format.sqlite3", **env},
    )


def test_production_logs_json_by_default():
    result = shell(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="example.com")

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stderr)
    assert (record["level"], record["logger"], record["message"]) == (
        "WARNING",
        "events_face.check",
        "format is json",
    )
    assert "timestamp" in record


@pytest.mark.parametrize("env", [{}, {"DEBUG": "false", "LOG_FORMAT": "text"}])
def test_development_logs_text_and_production_may_ask_for_it(env):
    if env:
        env = {**env, "SECRET_KEY": secrets.token_urlsafe(50)}

    result = shell(**env)

    assert result.returncode == 0, result.stderr
    assert result.stderr.rstrip().endswith("WARNING events_face.check [-]: format is text")


def test_an_unknown_log_format_is_refused_naming_the_variable():
    result = shell(LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text, not 'xml'" in result.stderr
