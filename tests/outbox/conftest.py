"""Fixtures for the outbox: settings for the notifications emulator (tests/conftest.py), a delivery pass, workers.

Everything that sends runs against the emulator (or a fake server) over real HTTP
on 127.0.0.1, and against the real test database (`transactional_db`: delivery
refuses to run inside a transaction, and worker subprocesses must see committed rows).
Helpers tests import live in `tests/support/outbox.py`.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from events_face.outbox.delivery import due_messages_deliver
from events_face.outbox.outcomes import BatchReport
from events_face.outbox.senders import Senders
from tests.support.outbox import OWNER_ID, TOKEN, WorkerProcesses


@pytest.fixture
def delivery_settings(settings, notifications_service):
    """Settings pointing this process at the emulator, with quick retries."""
    settings.NOTIFICATIONS_URL = notifications_service.url
    settings.NOTIFICATIONS_TOKEN = TOKEN
    settings.NOTIFICATIONS_OWNER_ID = OWNER_ID
    settings.OUTBOX_RETRY_BASE_SECONDS = 1.0
    settings.OUTBOX_HTTP_DEADLINE_SECONDS = 2.0
    settings.OUTBOX_LEASE_SECONDS = 30
    settings.OUTBOX_CONCURRENCY = 4
    return settings


@pytest.fixture
def deliver(delivery_settings) -> Iterator[Callable[..., BatchReport]]:
    """One `due_messages_deliver` pass in this process, as lease owner "test-worker",
    with senders built from the settings as they are at the call."""
    executor = ThreadPoolExecutor(max_workers=4)

    def deliver_once(**kwargs: Any) -> BatchReport:
        kwargs.setdefault("lease_owner", "test-worker")
        kwargs.setdefault("limit", 100)
        with Senders() as senders:
            return due_messages_deliver(senders=senders, executor=executor, **kwargs)

    yield deliver_once
    executor.shutdown()


@pytest.fixture
def workers(tmp_path) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(tmp_path)
    yield processes
    processes.stop_all()
