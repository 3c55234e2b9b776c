from django.contrib import admin, messages

from events_face.outbox.models import OutboxMessage
from events_face.outbox.services import outbox_requeue_failed


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "created_at", "sent", "sent_at", "attempts", "next_attempt_at", "failed_at"]
    list_filter = ["sent", "topic", ("failed_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "payload__email"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["requeue_failed"]

    @admin.action(description="Put failed messages back in the delivery queue")
    def requeue_failed(self, request, queryset) -> None:
        count = outbox_requeue_failed(ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"{count} failed message(s) put back in the queue; the worker will send them.",
            messages.SUCCESS if count else messages.WARNING,
        )
