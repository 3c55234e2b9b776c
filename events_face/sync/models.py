"""Sync runs: one row per `sync_events` run, the incremental sync's memory."""

from django.db import models


class SyncRun(models.Model):
    class Mode(models.TextChoices):
        ALL = "all", "All events"
        DATE = "date", "Changed since a date"
        INCREMENTAL = "incremental", "Incremental"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    mode = models.CharField(max_length=16, choices=Mode.choices)
    # The `changed_at` date asked of the provider; empty for a full sync.
    since_date = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "-started_at"], name="syncrun_status_started_idx")]

    def __str__(self) -> str:
        return f"{self.mode} sync at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class SyncLease(models.Model):
    """The single-run lock on SQLite (see `events_face.sync.services.sync_lock`).

    One row per lock name; its holder owns the lock until `expires_at`, which
    the holder pushes forward after every page. A crashed run's lease simply
    expires.
    """

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=128)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
