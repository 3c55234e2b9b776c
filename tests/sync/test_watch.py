"""`sync_events --watch`: repeated incremental syncs until SIGTERM, which stops between pages."""

import signal
import time
from datetime import UTC
from itertools import pairwise

import pytest

from events_face.events.models import Event
from events_face.sync.models import SyncRun
from tests.support.sync import sync_process, wait_for_requests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_for_runs(count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while SyncRun.objects.filter(status="succeeded").count() < count:
        assert time.monotonic() < deadline, f"fewer than {count} runs succeeded in {timeout}s"
        time.sleep(0.1)


def test_watch_repeats_incremental_syncs_until_sigterm(start_provider):
    provider = start_provider()
    watcher = sync_process(provider, "--watch", "0.1")
    try:
        wait_for_runs(3)
        provider.change(add=1)
        wait_for_runs(5)
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=20)
    finally:
        watcher.kill()

    assert watcher.returncode == 0, err
    runs = list(SyncRun.objects.order_by("started_at"))
    assert all(run.status == "succeeded" and run.mode == "incremental" for run in runs)
    assert runs[0].since_date is None and runs[0].created == 45
    for previous, run in pairwise(runs):
        assert run.since_date == previous.started_at.astimezone(UTC).date()
    assert sum(run.created for run in runs) == 46 == Event.objects.count()


def test_sigterm_stops_a_run_between_pages(start_provider):
    provider = start_provider(events=45, page_size=10)
    provider.set_faults(latency=1)  # slow enough that the signal lands mid-run on a loaded machine
    watcher = sync_process(provider, "--watch", "60")
    try:
        wait_for_requests(provider, 1)
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=20)
    finally:
        watcher.kill()

    assert watcher.returncode == 0, err
    run = SyncRun.objects.get()
    assert run.status == "failed" and "Stopped by a signal" in run.error
    assert 1 <= run.pages < 5
    assert Event.objects.count() == 10 * run.pages, "whole pages only"
