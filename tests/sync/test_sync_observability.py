"""What `sync_events` tells an operator: `--watch` serves its run, page and record counters
on its own metrics port (SYNC_METRICS_PORT), and every run logs each page it applies."""

import json
import signal

import httpx
import pytest

from events_face.launcher import free_port
from events_face.sync.models import SyncRun
from tests.support.metrics import Scrape
from tests.support.polling import wait_until
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
            lambda: SyncRun.objects.filter(status="succeeded").exists(),
            timeout=60,
            message="the first run succeeds",
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


def test_each_page_is_logged_as_json_with_its_counts(start_provider):
    provider = start_provider(events=45, page_size=10)

    process = sync_process(provider, "--all", LOG_FORMAT="json", LOG_LEVEL="INFO")
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines()]  # every log line is JSON
    pages = [record for record in records if "page" in record]
    run = SyncRun.objects.get()
    assert [page["page"] for page in pages] == [1, 2, 3, 4, 5]
    assert [page["records"] for page in pages] == [10, 10, 10, 10, 5]
    assert all(page["sync_run"] == run.pk and page["level"] == "INFO" for page in pages)
    assert sum(page["events_created"] for page in pages) == 45 == run.created
    assert all(page["events_updated"] == page["records_skipped"] == 0 for page in pages)
    assert (
        pages[0]["message"]
        == f"sync run {run.pk} page 1: 10 records, 10 created, 0 updated, 0 unchanged, 0 skipped"
    )
    assert "45 created" in out
