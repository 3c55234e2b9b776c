"""Production mode refuses unsafe configuration and passes Django's deploy checks.

A variable that cannot be read stops every command in one line naming it; a
rule that spans settings is a system check with an id and a hint naming the
variable (events_face/config/checks.py), reported by `manage.py check`.
"""

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from events_face.config import environment
from events_face.config.checks import OUTBOX_TAG, SETTINGS_TAG
from events_face.config.settings.cache import cache_from_url, default_throttle_cache_url
from tests.support.processes import PROJECT_DIR, manage_run

SETTINGS_SOURCES = [
    PROJECT_DIR / "events_face" / "config" / "environment.py",
    *sorted((PROJECT_DIR / "events_face" / "config" / "settings").glob("*.py")),
]
READ_VARIABLE = re.compile(r'(?:env\.\w+|boolean|whole_number|raw)\(\s*"([A-Z_]+)"')

PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "events.example.com",
    "DATABASE_URL": "sqlite:////tmp/events-face-deploy-check.sqlite3",
    "PATH": "/usr/bin:/bin",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return manage_run(*args, env=env)


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
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        **PRODUCTION, SECRET_KEY=secrets.token_urlsafe(64), CACHE_URL="redis://127.0.0.1:6379/0",
    )  # fmt: skip

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


def variables_read_by_the_settings() -> set[str]:
    found = set()
    for path in SETTINGS_SOURCES:
        found |= set(READ_VARIABLE.findall(path.read_text()))
    return found


def test_env_example_lists_every_variable_the_settings_read():
    read = variables_read_by_the_settings()

    assert {"DEBUG", "SECRET_KEY", "TRUSTED_PROXIES", "THROTTLE_CACHE_URL", "LOG_FORMAT"} <= read, read
    assert read <= set(example_environment()), read - set(example_environment())


# --- One line, no traceback, naming the variable ---------------------------------------------


def assert_one_line_naming(result: subprocess.CompletedProcess, name: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr


def test_make_serve_without_a_secret_key_says_so_in_one_line():
    """`make serve`'s first step, collectstatic: once a 35-line traceback starting with KeyError: 'collectstatic'."""
    result = manage("collectstatic", "--no-input", "--verbosity", "0", **PRODUCTION)

    assert_one_line_naming(result, "SECRET_KEY")


def test_gunicorn_without_a_secret_key_says_so_in_one_line():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=PROJECT_DIR, env=PRODUCTION, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert_one_line_naming(result, "SECRET_KEY")


def boolean_variables() -> list[str]:
    names = set()
    for path in SETTINGS_SOURCES:
        names |= set(re.findall(r'boolean\(\s*"([A-Z_]+)"', path.read_text()))
    return sorted(names)


def test_every_boolean_variable_is_read_by_the_strict_reader():
    for path in SETTINGS_SOURCES:
        assert "env.bool(" not in path.read_text(), path
    assert {"DEBUG", "SECURE_SSL_REDIRECT", "DATABASE_CONN_HEALTH_CHECKS"} <= set(boolean_variables())


@pytest.mark.parametrize("name", boolean_variables())
def test_a_boolean_variable_that_is_not_a_boolean_is_refused_naming_it(name):
    # Production, so that the variables read only with DEBUG=false are read too.
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50), "WEB_CONCURRENCY": "1", name: "maybe"}

    result = manage("check", **env)

    assert_one_line_naming(result, name)
    assert "'maybe' is not a boolean" in result.stderr


@pytest.mark.parametrize(
    "value, expected",
    [("true", True), ("TRUE", True), ("1", True), ("Yes", True), ("on", True),
     ("false", False), ("False", False), ("0", False), ("NO", False), ("off", False), ("", True)],
)  # fmt: skip
def test_the_boolean_words_are_read_in_any_case(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_SWITCH", value)

    assert environment.boolean("SOME_SWITCH", default=True) is expected


# --- System checks: each bad combination, its id, the variable named ----------------------------


def errors(*, tags=(SETTINGS_TAG,)) -> dict[str, str]:
    """{check id: message and hint} of the project's checks that fail with the current settings."""
    found = run_checks(tags=list(tags), include_deployment_checks=True)
    return {
        message.id: f"{message.msg} {message.hint}"
        for message in found
        if message.id.startswith("events_face.")
    }


@override_settings(DEBUG=True)  # as `make run` has it (pytest-django turns DEBUG off)
def test_the_default_settings_pass_every_check():
    assert errors(tags=(SETTINGS_TAG, OUTBOX_TAG)) == {}


@override_settings(LANGUAGE_CODE="de")
def test_a_language_the_service_does_not_speak_is_E001():
    assert "LANGUAGE_CODE" in errors()["events_face.E001"]


@override_settings(NOTIFICATIONS_TIME_ZONE="Mars/Olympus_Mons")
def test_a_notifications_time_zone_that_is_none_is_E002():
    assert "NOTIFICATIONS_TIME_ZONE" in errors()["events_face.E002"]


@pytest.mark.parametrize("name", ["AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES"])
def test_an_admin_lockout_count_below_one_is_E003(name):
    with override_settings(**{name: 0}):
        assert name in errors()["events_face.E003"]


PER_PROCESS = {
    "default": cache_from_url("locmemcache://", location="checks-default"),
    "throttle": cache_from_url("locmemcache://", location="checks-throttle"),
}
SHARED = {
    "default": cache_from_url("redis://127.0.0.1:6379/0", location=""),
    "throttle": cache_from_url("redis://127.0.0.1:6379/1", location=""),
}


@override_settings(DEBUG=False, WEB_CONCURRENCY=2, CACHES=PER_PROCESS)
def test_production_with_two_web_processes_and_per_process_counters_is_E004():
    found = errors()["events_face.E004"]

    assert "CACHE_URL" in found and "WEB_CONCURRENCY" in found


@pytest.mark.parametrize(
    "overrides",
    [
        {"DEBUG": False, "WEB_CONCURRENCY": 1, "CACHES": PER_PROCESS},
        {"DEBUG": True, "WEB_CONCURRENCY": 5, "CACHES": PER_PROCESS},
        {"DEBUG": False, "WEB_CONCURRENCY": 5, "CACHES": SHARED},
    ],
)
def test_one_process_development_or_a_shared_cache_pass_E004(overrides):
    with override_settings(**overrides):
        assert "events_face.E004" not in errors()


def test_production_with_gunicorns_default_process_count_and_no_cache_url_is_refused():
    """WEB_CONCURRENCY unset: gunicorn's default, 2 per core + 1, is more than one."""
    result = manage("check", "--deploy", **PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode == 1
    assert "events_face.E004" in result.stderr and "CACHE_URL" in result.stderr


def test_e004_is_a_deployment_check_that_stops_no_other_command():
    """migrate, worker and production-like benchmarks run without a shared cache; check --deploy refuses."""
    result = manage("check", **PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode == 0, result.stderr


def test_gunicorn_warns_at_start_when_its_workers_count_rate_limits_apart(tmp_path):
    from events_face.launcher import gunicorn_start
    from tests.support.processes import command_env

    env = command_env(
        DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), WEB_CONCURRENCY="2", LOG_FORMAT="text",
        SECURE_SSL_REDIRECT="false",
    )  # fmt: skip
    server = gunicorn_start(env, tmp_path / "access.log", error_log_path=tmp_path / "error.log")
    server.stop()

    assert "events_face.E004" in server.error_log_path.read_text()


@override_settings(OUTBOX_LEASE_SECONDS=30, OUTBOX_HTTP_DEADLINE_SECONDS=10.0)
def test_a_lease_that_does_not_outlast_three_http_deadlines_is_E005():
    found = errors(tags=(OUTBOX_TAG,))["events_face.E005"]

    assert "OUTBOX_LEASE_SECONDS" in found and "OUTBOX_HTTP_DEADLINE_SECONDS" in found


@override_settings(TRUSTED_PROXIES=[], LEGACY_NUM_PROXIES=1, LEGACY_USE_X_FORWARDED_PROTO=True)
def test_the_old_proxy_variables_still_work_and_name_trusted_proxies():
    found = errors()

    assert "NUM_PROXIES" in found["events_face.W001"] and "TRUSTED_PROXIES" in found["events_face.W001"]
    assert (
        "USE_X_FORWARDED_PROTO" in found["events_face.W002"]
        and "TRUSTED_PROXIES" in found["events_face.W002"]
    )


@override_settings(CACHES={"default": SHARED["default"], "throttle": SHARED["default"]})
def test_counters_in_the_response_caches_store_is_W003():
    assert "THROTTLE_CACHE_URL" in errors()["events_face.W003"]


def test_manage_check_reports_every_problem_at_once():
    result = manage(
        "check", "--deploy", **PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50),
        LANGUAGE_CODE="de", NOTIFICATIONS_TIME_ZONE="Nowhere", AXES_FAILURE_LIMIT="0",
        OUTBOX_LEASE_SECONDS="5", NUM_PROXIES="1",
    )  # fmt: skip

    assert result.returncode == 1
    for check_id in ["E001", "E002", "E003", "E004", "E005", "W001"]:
        assert f"events_face.{check_id}" in result.stderr, result.stderr


# --- The throttle cache's default --------------------------------------------------------------


@pytest.mark.parametrize(
    "cache_url, expected",
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        (
            "redis://:secret@cache.internal:6380/4?key_prefix=ef",
            "redis://:secret@cache.internal:6380/5?key_prefix=ef",
        ),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/14"),  # the last of a default Redis's 16
        ("locmemcache://events-face", "locmemcache://events-face-throttle"),
    ],
)
def test_the_throttle_cache_defaults_to_the_next_redis_database_or_per_process_memory(cache_url, expected):
    assert default_throttle_cache_url(cache_url) == expected


def test_throttle_cache_url_overrides_the_default():
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.CACHES['throttle']['LOCATION'])",
        **{**PRODUCTION, "DEBUG": "true"}, CACHE_URL="redis://127.0.0.1:6379/0",
        THROTTLE_CACHE_URL="redis://counters.internal:6379/0",
    )  # fmt: skip

    assert result.stdout.strip().splitlines()[-1] == "redis://counters.internal:6379/0", result.stderr


@pytest.mark.parametrize(
    ("old", "new", "value"),
    [
        ("OUTBOX_HTTP_TIMEOUT", "OUTBOX_HTTP_DEADLINE_SECONDS", "7.5"),
        ("SYNC_HTTP_TIMEOUT", "SYNC_HTTP_DEADLINE_SECONDS", "12"),
    ],
)
def test_an_old_deadline_name_still_works_and_a_warning_names_the_new_one(old, new, value):
    shown = manage("shell", "-c", f"from django.conf import settings; print(settings.{new})", **{old: value})
    assert shown.returncode == 0, shown.stderr
    assert float(shown.stdout.strip().splitlines()[-1]) == float(value)

    checked = manage("check", **{old: value})
    assert "events_face.W004" in checked.stderr + checked.stdout
    assert new in checked.stderr + checked.stdout
