from django.apps import AppConfig
from django.core.signals import request_finished


class MonitoringConfig(AppConfig):
    name = "events_face.monitoring"
    label = "monitoring"

    def ready(self) -> None:
        from events_face.monitoring.request_id import request_id_forget

        request_finished.connect(request_id_forget, dispatch_uid="request_id_forget")
