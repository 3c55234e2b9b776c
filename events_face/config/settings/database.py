"""The database: DATABASE_URL (SQLite by default) and how its connections are kept."""

from pathlib import Path

from events_face.config import environment
from events_face.config.environment import BASE_DIR, MisconfiguredEnvironment, env, raw

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

# --- Behind a transaction pooler (PgBouncer) ------------------------------------------
# Set DATABASE_DIRECT_URL when DATABASE_URL
# points at PgBouncer in transaction pooling mode (docs/deployment.md, "PgBouncer"): it
# then names the same database, reached directly, for what needs a session of its own
# (the outbox worker's LISTEN, the sync's advisory lock; core/direct_connection.py).
# Unset: DATABASE_URL is PostgreSQL itself and serves those too.
DATABASE_DIRECT = env.db("DATABASE_DIRECT_URL") if raw("DATABASE_DIRECT_URL") else None
DATABASE_POOLED = DATABASE_DIRECT is not None
if DATABASE_POOLED:
    if DATABASE_VENDOR != "postgresql" or "postgresql" not in DATABASE_DIRECT["ENGINE"]:
        raise MisconfiguredEnvironment(
            "DATABASE_DIRECT_URL is for PostgreSQL behind PgBouncer: set both DATABASE_URL and "
            "DATABASE_DIRECT_URL to postgres:// URLs, or leave DATABASE_DIRECT_URL empty."
        )
    _pooled_options = DATABASES["default"].setdefault("OPTIONS", {})
    # Prepared statements live in a server session, and the next transaction may run on
    # another one. PgBouncer 1.18 (Debian 12) passes them through blindly, so none are
    # made: Django's psycopg cursors bind parameters on the client and prepare nothing
    # with prepare_threshold None (its default, pinned here).
    for _option, _safe in [("prepare_threshold", None), ("server_side_binding", False)]:
        if _pooled_options.get(_option, _safe) not in (_safe, "", "None", "false", "False"):
            raise MisconfiguredEnvironment(
                f"DATABASE_URL sets {_option}={_pooled_options[_option]!r}, which makes prepared "
                "statements; behind PgBouncer (DATABASE_DIRECT_URL is set) remove it from DATABASE_URL."
            )
        _pooled_options[_option] = _safe
    # A server-side cursor (QuerySet.iterator() outside a transaction declares one WITH
    # HOLD) is a session's too; without them iterator() reads its rows at once.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # CONN_MAX_AGE and CONN_HEALTH_CHECKS keep their meaning and their defaults: a kept
    # connection to PgBouncer holds no server connection between transactions (it costs
    # PgBouncer a few kilobytes; max_client_conn must cover every thread), and PgBouncer
    # checks its server connections itself, so a health check would only test the hop to it.
