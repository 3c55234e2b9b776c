"""A throwaway database for one benchmark run: created empty, migrated, dropped after."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
POSTGRES_SERVER_URL = "postgres://postgres@127.0.0.1:5432"


def scratch_database_create(
    name: str, *, vendor: str = "postgresql", server_url: str = POSTGRES_SERVER_URL
) -> str:
    """Create (or empty) the database `name`; return its DATABASE_URL."""
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name}")
        return f"{server_url}/{name}"
    path = PROJECT_DIR / "var" / f"{name}.sqlite3"
    path.parent.mkdir(exist_ok=True)
    for suffix in ["", "-wal", "-shm"]:
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def scratch_database_drop(
    name: str, *, vendor: str = "postgresql", server_url: str = POSTGRES_SERVER_URL
) -> None:
    """Drop what `scratch_database_create` made (a SQLite file is left for inspection)."""
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def bench_environment(url: str, **overrides: str) -> dict[str, str]:
    """The environment a benchmark's commands run with against the database at `url`
    (production-like: DEBUG off, no query log, quiet), `overrides` added."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "events_face.config.settings",
        "DEBUG": "false",
        # Never used to sign anything that outlives the run.
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


def server_environment(**overrides: str) -> dict[str, str]:
    """The environment of a benchmark's gunicorn servers before each names its database and
    cache: production's settings (DEBUG off, two workers, no HTTPS redirect on 127.0.0.1),
    a fresh secret, and access tokens that outlive the run; `overrides` added."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DJANGO_SETTINGS_MODULE", "API_CACHE_SECONDS", "CACHE_URL", "DATABASE_URL")
    }
    env.update(
        DEBUG="false",
        WEB_CONCURRENCY="2",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        JWT_ACCESS_TOKEN_LIFETIME_MINUTES="600",
        **overrides,
    )
    return env


def scratch_database_migrate(url: str, **overrides: str) -> dict[str, str]:
    """Apply the product's migrations to the database at `url`; return `bench_environment`'s."""
    env = bench_environment(url, **overrides)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=PROJECT_DIR, env=env, check=True
    )
    return env
