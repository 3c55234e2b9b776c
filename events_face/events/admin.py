from django.contrib import admin

from events_face.events.models import Event, Registration, Venue


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "updated_at"]
    search_fields = ["name", "id"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "event_time", "status", "venue", "capacity", "provider_changed_at"]
    list_filter = ["status", "event_time", "venue"]
    search_fields = ["name", "id"]
    date_hierarchy = "event_time"
    list_select_related = ["venue"]
    raw_id_fields = ["venue"]
    readonly_fields = ["created_at", "updated_at", "provider_changed_at"]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "event", "user", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["full_name", "email", "event__name", "id"]
    list_select_related = ["event", "user"]
    raw_id_fields = ["event", "user"]
    # The code goes only to the registrant's mailbox; staff may read it, never edit it.
    readonly_fields = ["id", "confirmation_code", "idempotency_key", "language", "created_at"]
