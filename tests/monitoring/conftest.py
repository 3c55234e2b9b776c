"""Fixtures for the monitoring tests: a notifications emulator for a real worker to deliver to."""

from collections.abc import Iterator

import pytest

from tests.support.outbox import TOKEN, NotificationsService
from tests.support.processes import start_emulator


@pytest.fixture
def notifications_service() -> Iterator[NotificationsService]:
    service = NotificationsService(start_emulator("notifications", "--token", TOKEN, "--seed", "7"))
    yield service
    service.close()
