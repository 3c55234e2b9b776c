from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "events_face.outbox"
    label = "outbox"
