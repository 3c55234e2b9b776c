"""The transactional outbox.

A message is written in the same transaction as the change that causes it (a
registration), so both commit or neither does. The worker delivers it later.
`sent` becomes true only after the notifications service answered 201 or 409.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    # Reused as the notification's `id`: the idempotency key downstream.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    topic = models.CharField(_("topic"), max_length=64)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent = models.BooleanField(_("sent"), default=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Every attempt that got an answer or an error (a released claim is given back);
    # the backoff grows with it.
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When the current stretch of passing trouble (5xx, 408, 425, 429, no answer)
    # began; the message is failed once it lasts OUTBOX_RETRY_HORIZON_HOURS (see outcomes.py).
    retrying_since = models.DateTimeField(_("retrying since"), null=True, blank=True)
    # Due when this moment has passed. Claiming sets it to the lease's end, so a
    # leased message is not due again until its lease expires (see delivery.py).
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # A worker owns the message until this moment; after it, any worker may take it.
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    lease_owner = models.CharField(_("lease owner"), max_length=64, blank=True, default="")
    last_error = models.TextField(_("last error"), blank=True, default="")
    # Set when delivery stopped for good (rejected payload, retry horizon passed);
    # never for an answer that blames our settings (401, 403, 404).
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The worker's claim query: unsent, not failed, due first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent=False, failed_at__isnull=True),
                name="outbox_due_idx",
            ),
            # outbox_stats() counts failed messages; few, so a small partial index.
            models.Index(
                fields=["failed_at"],
                condition=models.Q(failed_at__isnull=False),
                name="outbox_failed_idx",
            ),
        ]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self) -> str:
        return f"{self.topic} {self.id}"
