"""Fixtures for the events tests: a provider emulator to sync the catalogue from."""

import pytest

from tests.support.processes import start_emulator
from tests.support.sync import TOKEN, Provider


@pytest.fixture
def provider():
    emulator = start_emulator("provider", "--events", "30", "--seed", "11", "--token", TOKEN, "--page-size", "10")
    yield Provider(emulator)
    emulator.stop()
