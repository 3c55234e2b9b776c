"""The database: DATABASE_URL (SQLite by default) and how its connections are kept."""

from pathlib import Path

from events_face.config import environment
from events_face.config.environment import BASE_DIR, env

from .core import VAR_DIR

# --- Configured -----------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Connections are kept between requests (opening one, with SQLite's PRAGMAs,
# costs more than a whole cached API request).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
# A kept connection that broke (the database restarted) fails one request and is
# dropped. Checking it before each request instead costs PostgreSQL a round trip
# per request (`SELECT 1`), a sixth of a cached event page.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = environment.boolean("DATABASE_CONN_HEALTH_CHECKS", default=False)

# --- Computed -------------------------------------------------------------------------
DATABASE_VENDOR = "sqlite" if "sqlite" in DATABASES["default"]["ENGINE"] else "postgresql"
if DATABASE_VENDOR == "sqlite":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Writers take the lock when the transaction begins, so two writers
            # queue on busy_timeout instead of failing to upgrade a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not :memory:, so live-server threads and subprocesses in tests
    # use real, separate connections.
    # Named after the main file, so runs against different files never share one.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test_{Path(DATABASES['default']['NAME']).stem}.sqlite3")
    }
