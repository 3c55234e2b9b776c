from django.contrib import admin

from events_face.sync.models import SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "mode", "since_date", "status", "created", "updated", "unchanged", "skipped", "pages", "finished_at"]
    list_filter = ["status", "mode"]
    search_fields = ["error"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]
