"""A throwaway database for one benchmark run: created empty, migrated, dropped after."""

import os
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


def scratch_database_migrate(url: str, **overrides: str) -> dict[str, str]:
    """Apply the product's migrations to the database at `url`; the environment the benchmark's
    commands run with there (production-like: no query log, quiet), `overrides` added."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "events_face.config.settings",
        # The secret is never used to sign anything here.
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=PROJECT_DIR, env=env, check=True
    )
    return env
