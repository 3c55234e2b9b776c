"""PostgreSQL: the sync's lock lives in a direct session of its own (sync/lock.py). A run
whose lock session is closed under it (a database restart, an idle-session timeout, an
operator's pg_terminate_backend) stops before its next page, since another sync may now
take the lock."""

import threading

import pytest
from django.db import connection

from events_face.sync.models import SyncRun
from tests.support.polling import wait_until
from tests.support.sync import sync

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the advisory lock is PostgreSQL's"),
]


def lock_sessions(cursor) -> list[int]:
    cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'sync_events lock %%'")
    return [pid for (pid,) in cursor.fetchall()]


def test_a_run_whose_lock_session_is_closed_stops_before_its_next_page(provider, sync_settings):
    provider.set_faults(latency=0.5)  # five pages: time to close the session after the first
    terminated: list[int] = []

    def close_the_lock_session() -> None:
        from django.db import connections

        try:
            with connections["default"].cursor() as cursor:
                wait_until(
                    lambda: provider.requests() and lock_sessions(cursor), timeout=60, message="page 1"
                )
                for pid in lock_sessions(cursor):
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                    terminated.append(pid)
        finally:
            connections["default"].close()

    closer = threading.Thread(target=close_the_lock_session)
    closer.start()
    result = sync("--all")
    closer.join()

    assert terminated
    assert result.run is not None and result.run.status == SyncRun.Status.FAILED
    assert "sync lock closed" in result.run.error
    assert len(provider.requests()) < 5, "the run went on without its lock"
