"""DATABASE_DIRECT_URL: behind PgBouncer, the pooled mode's settings, and where the direct
connection goes (docs/deployment.md, "Many web hosts: PgBouncer")."""

import json
import subprocess
import sys

import pytest
from django.db import connection

from events_face.core.direct_connection import direct_connection_params
from tests.support.processes import PROJECT_DIR

POOLED = "postgres://events_face@pgbouncer.internal:6432/events_face"
DIRECT = "postgres://events_face:secret@db.internal:5432/events_face"


def settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    """Import the settings module alone with `env`; print the database settings as JSON."""
    code = (
        "import json; from events_face.config import settings as s; "
        "print(json.dumps({'default': s.DATABASES['default'], 'direct': s.DATABASE_DIRECT}, default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_behind_pgbouncer_no_server_side_cursor_and_no_prepared_statement_is_made():
    result = settings_in_a_fresh_process(DATABASE_URL=POOLED, DATABASE_DIRECT_URL=DIRECT)

    assert result.returncode == 0, result.stderr
    databases = json.loads(result.stdout)
    assert databases["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert databases["default"]["OPTIONS"]["prepare_threshold"] is None
    assert databases["default"]["OPTIONS"]["server_side_binding"] is False
    assert databases["direct"]["HOST"] == "db.internal" and databases["direct"]["PORT"] == 5432


def test_without_a_direct_url_nothing_changes():
    result = settings_in_a_fresh_process(DATABASE_URL=DIRECT)

    assert result.returncode == 0, result.stderr
    databases = json.loads(result.stdout)
    assert databases["direct"] is None
    assert not databases["default"].get("DISABLE_SERVER_SIDE_CURSORS")


@pytest.mark.parametrize("option", ["prepare_threshold=5", "server_side_binding=true"])
def test_an_option_that_prepares_statements_is_refused_behind_pgbouncer_and_named(option):
    result = settings_in_a_fresh_process(DATABASE_URL=f"{POOLED}?{option}", DATABASE_DIRECT_URL=DIRECT)

    assert result.returncode != 0
    assert option.split("=")[0] in result.stderr and "DATABASE_URL" in result.stderr


def test_a_direct_url_beside_sqlite_is_refused_and_named():
    result = settings_in_a_fresh_process(DATABASE_URL="sqlite:////tmp/x.sqlite3", DATABASE_DIRECT_URL=DIRECT)

    assert result.returncode != 0
    assert "DATABASE_DIRECT_URL" in result.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the direct connection is PostgreSQL's")
def test_the_direct_connection_goes_where_database_direct_url_says(settings):
    settings.DATABASE_DIRECT = {
        "NAME": "events_face",
        "USER": "u",
        "PASSWORD": "",
        "HOST": "db.internal",
        "PORT": 5433,
    }

    params = direct_connection_params()

    assert (params["host"], params["port"], params["dbname"], params["user"]) == (
        "db.internal",
        5433,
        "events_face",
        "u",
    )
    assert "password" not in params


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the direct connection is PostgreSQL's")
def test_without_database_direct_url_the_direct_connection_is_the_default_ones(settings):
    settings.DATABASE_DIRECT = None

    params = direct_connection_params()

    assert params["dbname"] == connection.settings_dict["NAME"]
    assert params.get("port") == connection.settings_dict["PORT"] or not connection.settings_dict["PORT"]
