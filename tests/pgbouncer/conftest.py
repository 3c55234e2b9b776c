"""Parts of the PostgreSQL suite again, with every process they start behind a real PgBouncer.

The processes a test starts (gunicorn, `manage.py worker`, `sync_events`) get
DATABASE_URL through PgBouncer in transaction pooling mode, with a pool of
`POOL_SIZE` server connections, and DATABASE_DIRECT_URL straight to the test
database, as docs/deployment.md deploys them. The test process itself (the
factories, the assertions) keeps its direct connection.

PostgreSQL only. Without the `pgbouncer` binary the package is skipped, except
under CI (.ci/run installs it).
"""

import os
from collections.abc import Iterator

import pytest

from tests.outbox.conftest import workers  # noqa: F401 (a fixture the re-run tests take)
from tests.support import processes
from tests.support.pgbouncer import PgBouncer, pgbouncer_binary, pgbouncer_start, pooled_database_urls
from tests.sync.conftest import provider, start_provider, sync_settings  # noqa: F401


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup) -> Iterator[PgBouncer]:
    """One PgBouncer for the package, stopped (its server connections closed) before the
    test database is dropped."""
    if pgbouncer_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is not installed; .ci/run installs it (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    bouncer = pgbouncer_start()
    yield bouncer
    bouncer.stop()


@pytest.fixture(autouse=True)
def processes_behind_pgbouncer(pgbouncer, monkeypatch) -> dict[str, str]:
    """Every process a test starts through `tests.support.processes.command_env` connects
    through PgBouncer, with the direct route beside it."""
    urls = pooled_database_urls(pgbouncer)
    monkeypatch.setattr(processes, "test_database_url", lambda: urls["DATABASE_URL"])
    monkeypatch.setenv("DATABASE_DIRECT_URL", urls["DATABASE_DIRECT_URL"])
    return urls


@pytest.fixture(autouse=True)
def _keep_every_event(settings, monkeypatch):
    """As tests/sync/conftest.py: the re-run sync tests count every event the emulator serves,
    60 days back included, past the cleanup horizon."""
    settings.CLEANUP_AFTER_DAYS = 36500
    monkeypatch.setenv("CLEANUP_AFTER_DAYS", "36500")
