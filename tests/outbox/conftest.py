"""Fixtures for the outbox: a real notifications emulator, messages, a worker.

Everything that sends runs against the emulator over real HTTP on 127.0.0.1,
and against the real test database (`transactional_db`: delivery refuses to
run inside a transaction, and worker subprocesses must see committed rows).
"""

import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import transaction

from events_face.outbox.delivery import BatchReport, deliver_due_messages
from events_face.outbox.models import OutboxMessage
from events_face.outbox.notifications import NotificationsClient
from events_face.outbox.services import outbox_message_create
from tests.processes import Emulator, command_env, manage, start_emulator

TOKEN = "test-notifications-token"
OWNER_ID = "8c2d4e6f-1a3b-4c5d-8e7f-9a0b1c2d3e4f"
TOPIC = "registration.created"


class NotificationsService:
    """The emulator as a test sees it: its URL, what it accepted, its faults."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.url = f"{emulator.base_url}/api/notifications"
        self._http = httpx.Client(timeout=30)

    def accepted(self) -> list[dict[str, Any]]:
        return self._http.get(self.url).json()

    def accepted_ids(self) -> list[str]:
        return [notification["id"] for notification in self.accepted()]

    def answers(self) -> dict[str, int]:
        return self._http.get(f"{self.emulator.base_url}/_control").json()["answers"]

    def set_faults(self, **faults: Any) -> None:
        self._http.post(f"{self.emulator.base_url}/_control", json=faults).raise_for_status()

    def script(self, *answers: dict[str, Any]) -> None:
        """The next requests get these answers, one each, in order."""
        self.set_faults(script=list(answers))

    def post(self, body: dict[str, Any], token: str = TOKEN) -> httpx.Response:
        return self._http.post(self.url, json=body, headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()
        self.emulator.stop()


@pytest.fixture
def notifications_service() -> Iterator[NotificationsService]:
    service = NotificationsService(start_emulator("notifications", "--token", TOKEN, "--seed", "7"))
    yield service
    service.close()


@pytest.fixture
def delivery_settings(settings, notifications_service):
    """Settings pointing this process at the emulator, with quick retries."""
    settings.NOTIFICATIONS_URL = notifications_service.url
    settings.NOTIFICATIONS_TOKEN = TOKEN
    settings.NOTIFICATIONS_OWNER_ID = OWNER_ID
    settings.OUTBOX_RETRY_BASE_SECONDS = 1.0
    settings.OUTBOX_HTTP_TIMEOUT = 2.0
    settings.OUTBOX_LEASE_SECONDS = 30
    return settings


def message_payload(index: int = 0, **overrides: Any) -> dict[str, Any]:
    return {
        "owner_id": OWNER_ID,
        "email": f"guest{index}@example.com",
        "message": f"Hello, Guest {index}! Your confirmation code: {index:06d}",
        **overrides,
    }


def make_message(**payload: Any) -> OutboxMessage:
    with transaction.atomic():
        return outbox_message_create(topic=TOPIC, payload=message_payload(**payload))


def make_messages(count: int) -> list[OutboxMessage]:
    """Many committed messages at once, shaped exactly as outbox_message_create makes them."""
    messages = []
    for index in range(count):
        message = OutboxMessage(topic=TOPIC, payload=message_payload(index))
        message.payload["id"] = str(message.id)
        messages.append(message)
    OutboxMessage.objects.bulk_create(messages, batch_size=500)
    return messages


@pytest.fixture
def deliver(delivery_settings) -> Iterator[Callable[..., BatchReport]]:
    """One `deliver_due_messages` pass in this process, as lease owner "test-worker",
    with a client built from the settings as they are at the call."""
    executor = ThreadPoolExecutor(max_workers=4)

    def deliver_once(**kwargs: Any) -> BatchReport:
        kwargs.setdefault("lease_owner", "test-worker")
        kwargs.setdefault("limit", 100)
        with NotificationsClient(
            url=delivery_settings.NOTIFICATIONS_URL,
            token=delivery_settings.NOTIFICATIONS_TOKEN,
            timeout=delivery_settings.OUTBOX_HTTP_TIMEOUT,
            max_connections=4,
        ) as client:
            return deliver_due_messages(client=client, executor=executor, **kwargs)

    yield deliver_once
    executor.shutdown()


def worker_env(service: NotificationsService, **overrides: str) -> dict[str, str]:
    """Environment for a `manage.py worker` subprocess on the test database."""
    env = {
        "NOTIFICATIONS_URL": service.url,
        "NOTIFICATIONS_TOKEN": TOKEN,
        "NOTIFICATIONS_OWNER_ID": OWNER_ID,
        "OUTBOX_POLL_INTERVAL": "0.1",
        "OUTBOX_RETRY_BASE_SECONDS": "0.05",
        "OUTBOX_RETRY_MAX_SECONDS": "0.5",
        "OUTBOX_MAX_ATTEMPTS": "1000",
        "OUTBOX_HTTP_TIMEOUT": "2",
        "OUTBOX_LEASE_SECONDS": "10",
    }
    env.update(overrides)
    return command_env(**env)


class WorkerProcesses:
    """`manage.py worker` subprocesses logging to files; killed at the end of the test."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def start(self, env: dict[str, str], *args: str) -> subprocess.Popen:
        log = self.log_dir / f"worker-{len(self.processes)}.log"
        with log.open("w") as output:
            process = manage("worker", *args, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.processes.append((process, log))
        return process

    def run(self, env: dict[str, str], *args: str, timeout: float = 60) -> tuple[int, str]:
        """Run a worker to its end; returns (exit code, output)."""
        process = self.start(env, *args)
        return process.wait(timeout=timeout), self.output(process)

    def output(self, process: subprocess.Popen) -> str:
        log = next(log for started, log in self.processes if started is process)
        return log.read_text()

    def stop_all(self) -> None:
        for process, _log in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(tmp_path)
    yield processes
    processes.stop_all()


def wait_until(condition: Callable[[], Any], *, timeout: float, message: str) -> Any:
    """Poll `condition` until it is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting until {message}")
        time.sleep(0.05)
