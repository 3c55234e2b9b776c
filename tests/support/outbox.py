"""Outbox test helpers: the notifications emulator as a test sees it, messages, worker processes."""

import subprocess
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from django.db import models, transaction
from django.utils import timezone

from events_face.events.notifications import REGISTRATION_NOTIFICATION_TOPIC
from events_face.launcher import Emulator
from events_face.outbox.models import OutboxMessage
from events_face.outbox.services import outbox_message_create
from tests.support.processes import command_env, manage

TOKEN = "test-notifications-token"
OWNER_ID = "8c2d4e6f-1a3b-4c5d-8e7f-9a0b1c2d3e4f"
TOPIC = REGISTRATION_NOTIFICATION_TOPIC


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


def message_payload(index: int = 0, *, message_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """A notification body as the registration service shapes it."""
    return {
        "id": str(message_id),
        "owner_id": OWNER_ID,
        "email": f"guest{index}@example.com",
        "message": f"Hello, Guest {index}! Your confirmation code: {index:06d}",
        **overrides,
    }


def make_message(index: int = 0, **overrides: Any) -> OutboxMessage:
    message_id = uuid.uuid4()
    with transaction.atomic():
        return outbox_message_create(
            message_id=message_id,
            topic=TOPIC,
            payload=message_payload(index, message_id=message_id, **overrides),
        )


def make_messages(count: int) -> list[OutboxMessage]:
    """Many committed messages at once, shaped exactly as outbox_message_create makes them."""
    messages = []
    for index in range(count):
        message_id = uuid.uuid4()
        messages.append(
            OutboxMessage(id=message_id, topic=TOPIC, payload=message_payload(index, message_id=message_id))
        )
    OutboxMessage.objects.bulk_create(messages, batch_size=500)
    return messages


def clock_advances(*messages: OutboxMessage, seconds: float | None = None) -> float:
    """As if the clock had run on, without sleeping: every time stored on the messages' rows
    moves back by `seconds` (None: until every one of them is due). Returns the seconds skipped."""
    rows = list(OutboxMessage.objects.filter(pk__in=[message.pk for message in messages]))
    if seconds is None:
        now = timezone.now()
        wait = max([row.next_attempt_at - now for row in rows] + [timedelta(0)])
    else:
        wait = timedelta(seconds=seconds)
    moments = [field.name for field in OutboxMessage._meta.fields if isinstance(field, models.DateTimeField)]
    for row in rows:
        OutboxMessage.objects.filter(pk=row.pk).update(
            **{name: getattr(row, name) - wait for name in moments if getattr(row, name) is not None}
        )
    return wait.total_seconds()


def worker_env(service: "NotificationsService | str", **overrides: str) -> dict[str, str]:
    """Environment for a `manage.py worker` subprocess on the test database, delivering to
    the emulator `service` (or to a URL)."""
    env = {
        "NOTIFICATIONS_URL": service if isinstance(service, str) else service.url,
        "NOTIFICATIONS_TOKEN": TOKEN,
        "NOTIFICATIONS_OWNER_ID": OWNER_ID,
        "OUTBOX_POLL_INTERVAL": "0.1",
        "OUTBOX_RETRY_BASE_SECONDS": "0.05",
        "OUTBOX_RETRY_MAX_SECONDS": "0.5",
        "OUTBOX_HTTP_DEADLINE_SECONDS": "2",
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
