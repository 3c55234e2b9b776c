"""Outbox messages in the admin: read-only; the one action puts failed messages back in the queue.

A message is written with the change that causes it and then only by the
worker, so the admin adds, edits and deletes none (a deleted unsent message is
a notification never sent).
"""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events_face.outbox.models import OutboxMessage
from events_face.outbox.services import outbox_requeue_failed


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "topic",
        "created_at",
        "sent",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "failed_at",
    ]
    list_filter = ["sent", "topic", ("failed_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "payload__email"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["requeue_failed"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_requeue_permission(self, request) -> bool:
        """Requeueing is the one change staff make here: it needs the model's change permission."""
        return super().has_change_permission(request)

    @admin.action(description=_("Put failed messages back in the delivery queue"), permissions=["requeue"])
    def requeue_failed(self, request, queryset) -> None:
        count = outbox_requeue_failed(ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            gettext("%(count)d failed message(s) put back in the queue; the worker will send them.")
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
