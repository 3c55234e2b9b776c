"""Fixtures for the sync: provider emulators and settings pointing at them.
Helpers tests import live in `tests/support/sync.py`."""

from __future__ import annotations

import pytest

from events_face.launcher import Emulator, emulator_start
from tests.support.sync import TOKEN, Provider

# The emulator's events lie from 60 days back to 180 ahead. Tests of other rules sync all of
# them: the cleanup horizon (CLEANUP_AFTER_DAYS) is pushed out of the way, in this process
# and in the `sync_events` processes tests start; test_cleanup_horizon.py sets its own.
EVERY_EVENT_DAYS = 36500


@pytest.fixture(autouse=True)
def _keep_every_event(settings, monkeypatch):
    settings.CLEANUP_AFTER_DAYS = EVERY_EVENT_DAYS
    monkeypatch.setenv("CLEANUP_AFTER_DAYS", str(EVERY_EVENT_DAYS))


@pytest.fixture
def start_provider():
    """Start emulators with the given options; all are stopped after the test."""
    started: list[Emulator] = []

    def start(
        *, events: int = 45, page_size: int = 10, seed: int = 7, extra: tuple[str, ...] = ()
    ) -> Provider:
        emulator = emulator_start(
            "provider",
            "--events", str(events),
            "--seed", str(seed),
            "--token", TOKEN,
            "--page-size", str(page_size),
            *extra,
        )  # fmt: skip
        started.append(emulator)
        return Provider(emulator)

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def provider(start_provider) -> Provider:
    return start_provider()


@pytest.fixture
def sync_settings(settings, provider):
    """Point the sync at the emulator, with retries fast enough for tests."""
    settings.EVENTS_PROVIDER_URL = provider.url
    settings.EVENTS_PROVIDER_TOKEN = TOKEN
    settings.SYNC_MAX_RETRIES = 2
    settings.SYNC_BACKOFF_MAX = 0.05
    settings.SYNC_HTTP_DEADLINE_SECONDS = 5.0
    return settings
