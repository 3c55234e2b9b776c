from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "events_face.monitoring"
    label = "monitoring"
