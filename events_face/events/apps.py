from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events_face.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        # Registers the senders of the registrants' notifications with the outbox.
        from events_face.events import notifications  # noqa: F401
