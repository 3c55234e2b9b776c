from django.contrib import admin

from events_face.outbox.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "created_at", "sent", "sent_at", "attempts", "next_attempt_at", "failed_at"]
    list_filter = ["sent", "topic", ("failed_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "payload__email"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
