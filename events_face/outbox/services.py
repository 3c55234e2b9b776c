"""Writing outbox messages.

`outbox_message_create` must be called inside the transaction of the change
that causes the message: the message then commits, or rolls back, with it.
"""

from typing import Any

from django.db import transaction

from events_face.outbox.models import OutboxMessage


def outbox_message_create(*, topic: str, payload: dict[str, Any]) -> OutboxMessage:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_message_create must run inside the causing transaction")
    message = OutboxMessage(topic=topic, payload=payload)
    # The notification id is the message id: one key for every retry.
    message.payload = {**payload, "id": str(message.id)}
    message.save(force_insert=True)
    return message
