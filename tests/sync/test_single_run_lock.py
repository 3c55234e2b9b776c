"""Only one `sync_events` at a time, with real concurrent processes on a real database."""

import time

import pytest

from events_face.events.models import Event
from events_face.sync.models import SyncRun
from tests.support.sync import Provider, sync, sync_process, wait_for_requests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def slow_provider(start_provider) -> Provider:
    provider = start_provider(events=45, page_size=10)
    provider.set_faults(latency=0.3)  # five pages: the first run holds the lock for about 1.5s
    return provider


def test_a_second_concurrent_run_exits_at_once_with_a_clear_message(slow_provider):
    # Slow enough that the first run surely still holds the lock while the second
    # process starts up on a loaded machine; sped up again once the second is done.
    slow_provider.set_faults(latency=3)
    first = sync_process(slow_provider, "--all")
    try:
        wait_for_requests(slow_provider, 1)

        second = sync_process(slow_provider, "--all")
        _, second_err = second.communicate(timeout=20)
        slow_provider.set_faults(latency=0)

        assert second.returncode == 1
        assert "Another sync_events is running" in second_err
        first_out, first_err = first.communicate(timeout=30)
    finally:
        first.kill()
    assert first.returncode == 0, first_err
    assert "45 created" in first_out
    assert len(slow_provider.requests()) == 5, "only the first run asked the provider"
    assert list(SyncRun.objects.values_list("status", flat=True)) == ["succeeded"]


def test_a_killed_runs_lock_is_released_and_its_run_marked_interrupted(slow_provider, sync_settings):
    # On SQLite the dead run's lease expires after SYNC_LEASE_SECONDS; on PostgreSQL the
    # advisory lock goes with the dead process's connection.
    first = sync_process(slow_provider, "--all", SYNC_LEASE_SECONDS="1")
    try:
        wait_for_requests(slow_provider, 2)
    finally:
        first.kill()
        first.wait(timeout=10)

    deadline = time.monotonic() + 20
    result = sync("--all")
    while result.error and "Another sync_events is running" in result.error:
        assert time.monotonic() < deadline, "the dead run's lock was never released"
        time.sleep(0.2)
        result = sync("--all")

    assert result.error is None and result.run.status == "succeeded"
    killed = SyncRun.objects.exclude(pk=result.run.pk).get()
    assert killed.status == "failed" and "Interrupted" in killed.error
    assert Event.objects.count() == 45
