"""The catalogue in the admin: a read-only mirror of the provider, and our registrations.

Venues and events belong to the events-provider: the sync writes them and would
overwrite any edit at the provider's next change. So the admin shows them and
adds, edits or deletes none of it, except what is ours: an event's `capacity`.
Registrations are made only through the API (`registration_create` keeps the
capacity, the confirmation code and the notification together); staff may
correct a registrant's name or address, or delete a registration.
"""

from django.contrib import admin

from events_face.events.models import Event, Registration, Venue


class ProviderMirrorAdmin(admin.ModelAdmin):
    """Everything read-only but `editable_fields`; no add, no delete."""

    editable_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name not in self.editable_fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Venue)
class VenueAdmin(ProviderMirrorAdmin):
    list_display = ["name", "id", "updated_at"]
    search_fields = ["name", "id"]


@admin.register(Event)
class EventAdmin(ProviderMirrorAdmin):
    list_display = ["name", "event_time", "status", "venue", "capacity", "provider_changed_at"]
    list_filter = ["status", "event_time", "venue"]
    search_fields = ["name", "id"]
    date_hierarchy = "event_time"
    list_select_related = ["venue"]
    editable_fields = ("capacity",)


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "event", "user", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["full_name", "email", "event__name", "id"]
    list_select_related = ["event", "user"]
    raw_id_fields = ["event", "user"]
    # The code goes only to the registrant's mailbox; staff may read it, never edit it.
    readonly_fields = ["id", "confirmation_code", "idempotency_key", "language", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
