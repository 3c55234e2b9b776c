"""The catalogue in the admin: a read-only mirror of the provider, and our registrations.

Venues and events belong to the events-provider: the sync writes them and would
overwrite any edit at the provider's next change. So the admin shows them and
adds, edits or deletes none of it, except what is ours: an event's `capacity`,
set through `lifecycle.event_capacity_set` (a raise promotes the waiting list;
a cut below the confirmed count removes nobody, and the page says so). An
event's page shows its confirmed, waitlisted and cancelled registrations next
to its capacity.

Registrations are made only through the API (`registration_create` keeps the
capacity, the confirmation code and the notification together) and are never
deleted: staff may correct a registrant's name or address, filter by status,
see the waiting position, and cancel selected registrations through the same
service as their owners (`lifecycle.registrations_cancel`: promotion and
notifications included).
"""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events_face.events.check_in import check_ins_undo
from events_face.events.lifecycle import event_capacity_set, registrations_cancel
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

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "registrations_by_status"]

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name != "registrations_by_status"]
        position = fields.index("capacity") + 1 if "capacity" in fields else len(fields)
        return [*fields[:position], "registrations_by_status", *fields[position:]]

    @admin.display(description=_("Registrations"))
    def registrations_by_status(self, event: Event) -> str:
        counts = Registration.objects.filter(event=event).aggregate(
            **{status: Count("pk", filter=Q(status=status)) for status in Registration.Status.values}
        )
        return _("%(confirmed)d confirmed / %(waitlisted)d waitlisted / %(cancelled)d cancelled") % counts

    def save_model(self, request, obj, form, change):
        if not change or "capacity" not in form.changed_data:
            return super().save_model(request, obj, form, change)
        # Through the service: under the event's lock, promoting the waiting list.
        outcome = event_capacity_set(event_id=obj.pk, capacity=obj.capacity)
        if outcome.promoted:
            self.message_user(
                request,
                gettext("Registrations promoted from the waiting list: %(count)d.")
                % {"count": outcome.promoted},
                messages.SUCCESS,
            )
        if over := outcome.over_capacity(obj.capacity):
            self.message_user(
                request,
                gettext(
                    "The capacity is %(over)d below the confirmed registrations (%(confirmed)d): nobody was "
                    "removed, and nobody gets a seat until cancellations bring them under the capacity."
                )
                % {"over": over, "confirmed": outcome.confirmed},
                messages.WARNING,
            )


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = [
        "full_name",
        "email",
        "event",
        "status",
        "waitlist_position",
        "checked_in_at",
        "user",
        "created_at",
    ]
    list_filter = ["status", "created_at", ("checked_in_at", admin.EmptyFieldListFilter)]
    search_fields = ["full_name", "email", "event__name", "id"]
    list_select_related = ["event", "user"]
    raw_id_fields = ["event", "user"]
    # The code goes only to the registrant's mailbox; staff may read it, never edit it.
    readonly_fields = [
        "id",
        "status",
        "waitlist_position",
        "confirmation_code",
        "idempotency_key",
        "language",
        "created_at",
        "confirmed_at",
        "cancelled_at",
        "checked_in_at",
        "checked_in_by",
        "reminded_at",
    ]
    actions = ["cancel_selected", "undo_check_in"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_waitlist_position()

    @admin.display(description=_("Waiting position"), ordering="waitlist_position")
    def waitlist_position(self, registration: Registration) -> int | None:
        return registration.waitlist_position

    @admin.action(description=_("Cancel selected registrations"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        cancelled = registrations_cancel(registration_ids=selected)
        self.message_user(
            request,
            gettext(
                "Registrations cancelled: %(count)d of %(selected)d selected (already cancelled ones and those of "
                "started events are left as they are)."
            )
            % {"count": cancelled, "selected": len(selected)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Undo the check-in of selected registrations"), permissions=["change"])
    def undo_check_in(self, request, queryset):
        undone = check_ins_undo(registration_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request, gettext("Check-ins undone: %(count)d.") % {"count": undone}, messages.SUCCESS
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Kept, never deleted: cancel instead (the action above).
        return False
