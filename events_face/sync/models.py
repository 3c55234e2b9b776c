"""Sync runs: one row per `sync_events` run, the incremental sync's memory; and the
provider records the runs skipped, until one imports them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SyncRun(models.Model):
    class Mode(models.TextChoices):
        ALL = "all", _("All events")
        DATE = "date", _("Changed since a date")
        INCREMENTAL = "incremental", _("Incremental")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    # The `changed_at` date asked of the provider; empty for a full sync.
    since_date = models.DateField(_("since date"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    created = models.PositiveIntegerField(_("created"), default=0, help_text=_("Events created."))
    updated = models.PositiveIntegerField(_("updated"), default=0, help_text=_("Events updated."))
    unchanged = models.PositiveIntegerField(
        _("unchanged"), default=0, help_text=_("Events already up to date.")
    )
    skipped = models.PositiveIntegerField(
        _("skipped"), default=0, help_text=_("Provider records skipped as invalid.")
    )
    too_old = models.PositiveIntegerField(
        _("too old"),
        default=0,
        help_text=_("Valid records of events past the cleanup horizon (CLEANUP_AFTER_DAYS): not imported."),
    )
    pages = models.PositiveIntegerField(_("pages"), default=0)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "-started_at"], name="syncrun_status_started_idx")]
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")

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
    key = models.CharField(_("key"), max_length=80, unique=True)
    # The id as the provider sent it, shortened and escaped; empty when it had none.
    provider_id = models.CharField(_("provider's id"), max_length=200, blank=True)
    reason = models.TextField(_("reason"))
    # The start of the record as served, for a record without an id to look it up by.
    record_excerpt = models.TextField(_("record excerpt"), blank=True)
    first_skipped_at = models.DateTimeField(_("first skipped at"))
    last_skipped_at = models.DateTimeField(_("last skipped at"))
    last_run = models.ForeignKey(
        SyncRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="skipped_records",
        verbose_name=_("last run"),
    )

    class Meta:
        ordering = ["-last_skipped_at", "key"]
        verbose_name = _("skipped provider record")
        verbose_name_plural = _("skipped provider records")

    def __str__(self) -> str:
        return f"{self.provider_id or self.key}: {self.reason}"


class SyncLease(models.Model):
    """The single-run lock on SQLite (see `events_face.sync.lock.sync_lock`).

    One row per lock name; its holder owns the lock until `expires_at`, which
    the holder pushes forward after every page. A crashed run's lease simply
    expires.
    """

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    holder = models.CharField(_("holder"), max_length=128)
    acquired_at = models.DateTimeField(_("acquired at"))
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("sync lease")
        verbose_name_plural = _("sync leases")

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
