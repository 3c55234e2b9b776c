from django.apps import AppConfig
from django.core.signals import request_finished
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "events_face.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from events_face.monitoring.request_id import request_id_forget

        request_finished.connect(request_id_forget, dispatch_uid="request_id_forget")
