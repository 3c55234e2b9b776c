"""Fixtures for the events tests: a provider emulator to sync the catalogue from."""

import pytest

from events_face.launcher import emulator_start
from tests.support.sync import TOKEN, Provider


@pytest.fixture
def provider():
    emulator = emulator_start(
        "provider", "--events", "30", "--seed", "11", "--token", TOKEN, "--page-size", "10"
    )
    yield Provider(emulator)
    emulator.stop()
