from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events_face.events"
    label = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        # Registers the senders of the registrants' notifications with the outbox.
        from events_face.events import notifications  # noqa: F401
