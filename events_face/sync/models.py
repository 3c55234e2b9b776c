"""Sync runs: one row per `sync_events` run, the incremental sync's memory; and the
provider records the runs skipped, until one imports them."""

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
    # Valid records of events past the cleanup horizon (CLEANUP_AFTER_DAYS): not imported.
    too_old = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "-started_at"], name="syncrun_status_started_idx")]

    def __str__(self) -> str:
        return f"{self.mode} sync at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class SkippedRecord(models.Model):
    """A provider record a run skipped as invalid, kept until a run imports it (`upsert.py`).

    An incremental run does not fetch a record again unless the provider changes it,
    so this list is what `sync_events --all` would fetch again. One row per record,
    however many runs skip it.
    """

    # Who the record is: its id when that is a UUID (as the event would be stored);
    # otherwise "id-sha256:" and a digest of its id, or "record-sha256:" and a digest
    # of the whole record when it has no id to go by.
    key = models.CharField(max_length=80, unique=True)
    # The id as the provider sent it, shortened and escaped; empty when it had none.
    provider_id = models.CharField(max_length=200, blank=True)
    reason = models.TextField()
    # The start of the record as served, for a record without an id to look it up by.
    record_excerpt = models.TextField(blank=True)
    first_skipped_at = models.DateTimeField()
    last_skipped_at = models.DateTimeField()
    last_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="skipped_records"
    )

    class Meta:
        ordering = ["-last_skipped_at", "key"]
        verbose_name = "skipped provider record"

    def __str__(self) -> str:
        return f"{self.provider_id or self.key}: {self.reason}"


class SyncLease(models.Model):
    """The single-run lock on SQLite (see `events_face.sync.lock.sync_lock`).

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
