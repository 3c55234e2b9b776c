from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events_face.events"
    label = "events"
    verbose_name = "Events"
