from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events_face.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        # Registers with the outbox the senders of the registrants' notifications,
        # and the schedule that writes their reminders.
        from events_face.events import notifications, reminders  # noqa: F401
