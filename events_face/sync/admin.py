from django.contrib import admin

from events_face.sync.models import SyncLease, SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "mode", "since_date", "status", "created", "updated", "unchanged", "skipped", "pages", "finished_at"]
    list_filter = ["status", "mode"]
    search_fields = ["error"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    # Runs are written by `sync_events` only; the admin shows them.
    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SyncLease)
class SyncLeaseAdmin(admin.ModelAdmin):
    """SQLite's single-run lease: who holds it and until when (deleting it frees a stuck lock)."""

    list_display = ["name", "holder", "acquired_at", "expires_at"]
    readonly_fields = ["name", "holder", "acquired_at", "expires_at"]

    def has_add_permission(self, request) -> bool:
        return False
