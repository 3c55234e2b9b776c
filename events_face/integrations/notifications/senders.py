"""The registration notification: shaped here, and only here, and delivered by topic.

`registration_notification` builds the exact body the notifications service
receives for a new registration (contract: `contract.md`). The registration
service stores it as the outbox message's payload, in the registration's
transaction; the worker hands the stored payload to the sender registered
below for its topic. The notification's `id` is the outbox message's id (the
idempotency key). `owner_id` identifies this installation: the sender sends the
one configured where it runs (NOTIFICATIONS_OWNER_ID of the worker), so a web
process without it, or a changed one, never strands a message.

The confirmation code is the secret of this notification: the sender cuts it
(and the message text) out of anything the service answers before it reaches a
log line or `last_error`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from events_face.integrations.http import SendResult
from events_face.integrations.notifications.client import NotificationsClient
from events_face.outbox.senders import outbox_sender

REGISTRATION_NOTIFICATION_TOPIC = "registration.created"
CODE_INTRODUCTION = "Your confirmation code: "


def registration_notification(
    *,
    notification_id: uuid.UUID,
    email: str,
    full_name: str,
    event_name: str,
    event_time: datetime,
    confirmation_code: str,
) -> dict[str, str]:
    """The notifications service's body for one registration."""
    when = event_time.astimezone(UTC)
    return {
        "id": str(notification_id),
        "owner_id": settings.NOTIFICATIONS_OWNER_ID,
        "email": email,
        "message": (
            f"Hello, {full_name}! You are registered for {event_name} "
            f"on {when:%Y-%m-%d at %H:%M} UTC. {CODE_INTRODUCTION}{confirmation_code}"
        ),
    }


def notification_secrets(payload: Mapping[str, Any]) -> list[str]:
    """What must never appear in a log or a stored error: the code, and the text holding it."""
    message = payload.get("message")
    if not isinstance(message, str):
        return []
    _, introduced, code = message.rpartition(CODE_INTRODUCTION)
    return [message, code.strip()] if introduced else [message]


@outbox_sender(REGISTRATION_NOTIFICATION_TOPIC)
class NotificationSender:
    """POSTs the stored notification to the notifications service (one attempt)."""

    required_settings = ("NOTIFICATIONS_URL", "NOTIFICATIONS_TOKEN", "NOTIFICATIONS_OWNER_ID")

    def __init__(self) -> None:
        self._owner_id = settings.NOTIFICATIONS_OWNER_ID
        self._client = NotificationsClient(
            url=settings.NOTIFICATIONS_URL,
            token=settings.NOTIFICATIONS_TOKEN,
            timeout=settings.OUTBOX_HTTP_TIMEOUT,
            max_connections=settings.OUTBOX_CONCURRENCY,
        )

    def send(self, *, message_id: uuid.UUID, payload: Mapping[str, Any]) -> SendResult:
        notification = {**payload, "owner_id": self._owner_id}
        return self._client.send(notification, secrets=notification_secrets(payload))

    def close(self) -> None:
        self._client.close()
