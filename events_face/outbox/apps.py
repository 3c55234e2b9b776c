from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "events_face.outbox"
    label = "outbox"

    def ready(self) -> None:
        from events_face.outbox.senders import senders_load

        senders_load()  # every process knows every topic's sender (senders.py)
