"""Who delivers an outbox message: the sender registered for its topic.

A sender makes ONE attempt to deliver one message and says what came of it (a
`SendResult`, classified by `integrations/http.py`). It runs on the worker's
sender threads, so it never touches the database, and it never raises for what
its service or the network does.

Registering one is the whole of adding a kind of outgoing message:

    @outbox_sender("registration.created")
    class RegistrationNotificationSender: ...

The class is built without arguments (it reads its settings) once per worker.
The outbox names no sender and no topic: the app that writes a kind of message
registers its sender from its own `AppConfig.ready` (the events app:
`events/notifications.py`), so every process that loads Django knows them all.
A message is a topic and a JSON payload, shaped by whoever wrote it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from events_face.integrations.http import SendResult, Verdict
from events_face.outbox.registry import registrar


class Sender(Protocol):
    # Settings that must be non-empty for this sender to work (the worker checks them).
    required_settings: tuple[str, ...]

    def send(self, *, message_id: uuid.UUID, payload: Mapping[str, Any]) -> SendResult: ...

    def close(self) -> None: ...


_senders: dict[str, Callable[[], Sender]] = {}


def outbox_sender(topic: str):
    """Class decorator: messages of `topic` are delivered by this class."""
    return registrar(_senders, topic, what="senders of outbox topics")


def registered_senders() -> dict[str, Callable[[], Sender]]:
    return dict(_senders)


class Senders:
    """A worker's senders, built on first use and closed together; safe across threads."""

    def __init__(self) -> None:
        self._built: dict[str, Sender] = {}

    def prepare(self) -> None:
        """Build every registered sender now, on the caller's thread (not lazily on sender threads)."""
        for topic, sender_class in _senders.items():
            self._built.setdefault(topic, sender_class())

    def send(self, *, topic: str, message_id: uuid.UUID, payload: Mapping[str, Any]) -> SendResult:
        sender = self._built.get(topic)
        if sender is None:
            # Kept, failed and visible: an operator can requeue it once a sender is registered.
            return SendResult(Verdict.REJECTED, detail=f"no sender is registered for the topic {topic!r}")
        return sender.send(message_id=message_id, payload=payload)

    def close(self) -> None:
        for sender in self._built.values():
            sender.close()
        self._built.clear()

    def __enter__(self) -> Senders:
        self.prepare()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
