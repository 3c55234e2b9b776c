"""Venues, events and registrations: the product itself.

Venues and events are mirrors of the events-provider (their ids are the
provider's UUIDs); registrations are ours. A registration is unique per event
and e-mail address, compared case-insensitively, by a database constraint.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Venue(models.Model):
    id = models.UUIDField(primary_key=True, help_text="The provider's id of the place.")
    name = models.CharField(max_length=255)
    # Fields some provider versions add (city, address, seats_pattern, ...).
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        PUBLISHED = "published", "Published"
        REGISTRATION_CLOSED = "registration_closed", "Registration closed"
        FINISHED = "finished", "Finished"
        CANCELLED = "cancelled", "Cancelled"

    # Statuses under which registration may be open (deadline permitting).
    OPEN_STATUSES = (Status.NEW, Status.PUBLISHED)

    id = models.UUIDField(primary_key=True, help_text="The provider's id of the event.")
    name = models.CharField(max_length=500)
    event_time = models.DateTimeField()
    registration_deadline = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices)
    venue = models.ForeignKey(
        Venue, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Maximum number of registrations; empty means unlimited."
    )
    provider_changed_at = models.DateTimeField(
        help_text="`changed_at` as the provider last reported it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_time", "id"]
        indexes = [
            # The list's default: open statuses, upcoming, by time then id (keyset).
            models.Index(fields=["status", "event_time", "id"], name="event_status_time_idx"),
            models.Index(fields=["event_time", "id"], name="event_time_id_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Registration(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registrations",
    )
    full_name = models.CharField(max_length=128)
    email = models.EmailField(max_length=254)
    confirmation_code = models.CharField(max_length=16, editable=False)
    # Optional client-chosen key: a repeat by the same user replays the first response.
    # NULL, not "", for "no key": NULLs stay outside the (user, key) unique constraint.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, editable=False)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                "event", Lower("email"), name="registration_unique_event_email_ci"
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="registration_unique_user_idempotency_key",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="registration_user_idx")]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}> for {self.event_id}"
