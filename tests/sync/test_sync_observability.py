"""What `sync_events` tells an operator: `--watch` serves its run, page and record counters
on its own metrics port (SYNC_METRICS_PORT)."""

import signal

import httpx
import pytest

from events_face.sync.models import SyncRun
from tests.support.metrics import Scrape
from tests.support.polling import wait_until
from tests.support.processes import free_port
from tests.support.sync import sync_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_watch_serves_its_runs_pages_and_records_on_its_port(start_provider):
    provider = start_provider(events=45, page_size=10)
    provider.set_faults(malformed_fraction=0.2)
    malformed = len(provider.state()["malformed_ids"])
    port = free_port()
    watcher = sync_process(provider, "--watch", "600", SYNC_METRICS_PORT=f"127.0.0.1:{port}")
    try:
        wait_until(
            lambda: SyncRun.objects.filter(status="succeeded").exists(), timeout=60, message="the first run succeeds"
        )
        scrape = Scrape(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=20)
    finally:
        watcher.kill()

    assert watcher.returncode == 0, err
    assert 0 < malformed < 45
    assert scrape.value("events_face_sync_runs_total", mode="incremental", outcome="succeeded") == 1
    assert scrape.value("events_face_sync_runs_total", outcome="failed") == 0
    assert scrape.value("events_face_sync_pages_total", mode="incremental") == 5
    records = "events_face_sync_records_total"
    assert scrape.value(records, mode="incremental", result="created") == 45 - malformed
    assert scrape.value(records, mode="incremental", result="skipped") == malformed
    assert scrape.value(records, result="updated") == 0
    # Freshness is the web's to report, from the database.
    assert not scrape.has("events_face_sync_last_success_age_seconds")


def test_a_bad_metrics_port_stops_the_watch_naming_the_variable(provider):
    watcher = sync_process(provider, "--watch", "600", SYNC_METRICS_PORT="70000")
    try:
        _, err = watcher.communicate(timeout=60)
    finally:
        watcher.kill()

    assert watcher.returncode != 0
    assert "SYNC_METRICS_PORT must be a port" in err

