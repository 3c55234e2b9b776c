from django.contrib import admin

from events_face.sync.models import SkippedRecord, SyncLease, SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "mode",
        "since_date",
        "status",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "too_old",
        "pages",
        "finished_at",
    ]
    list_filter = ["status", "mode"]
    search_fields = ["error"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    # Runs are written by `sync_events` only; the admin shows them.
    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SkippedRecord)
class SkippedRecordAdmin(admin.ModelAdmin):
    """What the sync skipped as invalid and has not imported since: `sync_events --all`
    fetches these again. Written by the sync only; the page shows them, and saving it
    changes nothing."""

    list_display = ["provider_id", "reason", "last_skipped_at", "first_skipped_at", "last_run"]
    list_select_related = ["last_run"]
    search_fields = ["provider_id", "key", "reason"]
    readonly_fields = [f.name for f in SkippedRecord._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SyncLease)
class SyncLeaseAdmin(admin.ModelAdmin):
    """SQLite's single-run lease: who holds it and until when (deleting it frees a stuck lock)."""

    list_display = ["name", "holder", "acquired_at", "expires_at"]
    readonly_fields = ["name", "holder", "acquired_at", "expires_at"]

    def has_add_permission(self, request) -> bool:
        return False
