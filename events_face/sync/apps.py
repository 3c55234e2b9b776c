from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "events_face.sync"
    label = "sync"
