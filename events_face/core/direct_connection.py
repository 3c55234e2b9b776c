"""The direct connection to PostgreSQL: for what lives in a session, never through a pooler.

Behind PgBouncer in transaction pooling mode (DATABASE_DIRECT_URL set), each
transaction of a Django connection may run in another server session. That is
harmless for everything Events Face does inside transactions (row locks,
`SET LOCAL`, `pg_notify`), and wrong for the two things that must outlive one:

- the outbox worker's `LISTEN` (outbox/wakeup.py): notifications reach the session
  that listened, which PgBouncer has meanwhile lent to another client;
- the sync's advisory lock (sync/lock.py): a session-level lock stays with the
  server session, so it would outlive the run that took it and be taken again,
  re-entrantly, by whichever client gets that session next.

Both open a connection of their own with `direct_connect()`: to DATABASE_DIRECT_URL
when it is set, else to DATABASE_URL's database (PostgreSQL itself).
"""

from typing import Any

from django.conf import settings
from django.db import connection


def direct_connection_params() -> dict[str, Any]:
    """psycopg connection arguments for the default database's server, never a pooler.

    Without DATABASE_DIRECT_URL these are the default connection's own (in tests:
    the test database). With it, its server, user and database name replace them.
    """
    params = connection.get_connection_params()
    direct = settings.DATABASE_DIRECT
    if direct:
        params["dbname"] = direct["NAME"]
        for key, name in [("user", "USER"), ("password", "PASSWORD"), ("host", "HOST"), ("port", "PORT")]:
            if direct.get(name):
                params[key] = direct[name]
            else:
                params.pop(key, None)
    return params


def direct_connect(**kwargs: Any):
    """A new psycopg connection to PostgreSQL itself (`direct_connection_params`); the caller closes it."""
    import psycopg

    return psycopg.connect(**{**direct_connection_params(), **kwargs})
