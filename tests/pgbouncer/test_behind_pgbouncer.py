"""The service behind PgBouncer in transaction pooling mode: the PostgreSQL suite's process
tests again, their web servers, workers and syncs connecting through a pool of
`POOL_SIZE` server connections (conftest.py), the direct route beside it.

Re-run here, unchanged (imported from their modules, so they cannot drift apart):
- the registration concurrency tests, against gunicorn (2 workers x 4 threads: 8
  connections for 2 server sessions) instead of the in-process live server;
- the outbox worker process tests: --once, SIGTERM, SIGKILL, three workers sharing
  the queue, and the idle worker that wakes on a commit's NOTIFY (its LISTEN is on
  the direct route);
- the sync's single-run lock tests (the advisory lock is on the direct route);
- the response cache across processes: two servers sharing Redis, and a change
  synced by another process.

And what the direct route is for: without it, a killed sync's lock outlives it.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.db import connection

from events_face.launcher import gunicorn_start
from events_face.sync.lock import ADVISORY_LOCK_KEY
from tests.events.test_registration_concurrency import (  # noqa: F401 (collected here again)
    test_a_full_event_is_never_overbooked,
    test_one_idempotency_key_sent_at_once_for_two_events_makes_one_registration,
    test_simultaneous_registrations_with_one_email_make_exactly_one,
    test_simultaneous_repeats_with_one_idempotency_key_create_one_registration,
)
from tests.events.test_response_cache import (  # noqa: F401
    response_cache,
    test_a_change_synced_by_another_process_is_visible_on_the_next_request,
)
from tests.outbox.test_worker_process import (  # noqa: F401
    test_a_registration_through_the_api_reaches_the_notifications_service,
    test_a_worker_killed_mid_delivery_loses_nothing_and_a_restart_finishes_the_job,
    test_an_idle_worker_on_postgresql_wakes_on_commit_not_on_its_poll,
    test_once_delivers_what_is_due_logging_one_line_per_batch,
    test_sigterm_stops_a_busy_worker_cleanly_and_nothing_is_lost,
    test_three_workers_on_postgresql_deliver_5000_messages_through_20_percent_failures,
)
from tests.support.pgbouncer import pgbouncer_start
from tests.support.polling import wait_until
from tests.support.processes import command_env
from tests.support.sync import sync, sync_process
from tests.sync.test_single_run_lock import (  # noqa: F401
    slow_provider,
    test_a_killed_runs_lock_is_released_and_its_run_marked_interrupted,
    test_a_second_concurrent_run_exits_at_once_with_a_clear_message,
)
from tests.test_shared_cache import (  # noqa: F401
    shared_redis,
    test_a_page_one_server_rendered_is_served_by_the_other,
    two_servers,
)

pytestmark = [
    pytest.mark.pgbouncer,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PgBouncer pools PostgreSQL connections: run with DATABASE_URL=postgres://... to include it",
    ),
]


@dataclass
class PooledWebServer:
    """What the registration tests use of pytest-django's `live_server` (`url`), served by
    gunicorn behind PgBouncer instead."""

    url: str
    # pytest-django's helper enables and disables this around every test that takes a
    # `live_server`; the settings it overrides belong to its in-process server.
    _live_server_modified_settings: SimpleNamespace = field(
        default_factory=lambda: SimpleNamespace(enable=lambda: None, disable=lambda: None)
    )


@pytest.fixture
def live_server(processes_behind_pgbouncer, tmp_path) -> Iterator[PooledWebServer]:
    # The test process's SECRET_KEY (DEBUG as the suite runs it): the tests' tokens work there.
    env = command_env(WEB_CONCURRENCY="2", GUNICORN_THREADS="4", LOG_LEVEL="WARNING")
    server = gunicorn_start(env, tmp_path / "gunicorn.log")
    yield PooledWebServer(url=server.base_url)
    server.stop()


# --- what the direct route is for ------------------------------------------------------------------


def advisory_lock_holders() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
            [ADVISORY_LOCK_KEY],
        )
        return [pid for (pid,) in cursor.fetchall()]


def test_without_the_direct_route_a_syncs_lock_stays_in_the_pooled_session_after_it(provider, sync_settings):
    """Why DATABASE_DIRECT_URL exists. A session-level lock belongs to the server session,
    and through PgBouncer that is not the client's: here the sync's lock connection goes
    through the pooler too, and the lock outlives the run that took it (a run that ended
    cleanly, its connection closed), so no other sync can run until PgBouncer happens to
    close that server session. The same holds for a killed run, and for the lock taken on
    DATABASE_URL as before the direct route (its unlock could even land in another session)."""
    bouncer = pgbouncer_start(pool_size=1)  # its own: the leaked lock goes when it stops
    try:
        through_pooler = bouncer.url(command_env()["DATABASE_DIRECT_URL"])
        first = sync_process(
            provider, "--all", DATABASE_URL=through_pooler, DATABASE_DIRECT_URL=through_pooler
        )
        _, first_err = first.communicate(timeout=120)
        assert first.returncode == 0, first_err

        holders = advisory_lock_holders()
        result = sync("--all")

        assert holders, "the lock went with the run's connection"
        assert result.error and "Another sync_events is running" in result.error
    finally:
        bouncer.stop()
    wait_until(
        lambda: not advisory_lock_holders(), timeout=30, message="the lock goes with PgBouncer's session"
    )
