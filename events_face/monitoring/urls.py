from django.urls import re_path

from events_face.monitoring import apis

urlpatterns = [
    re_path(r"^health/?$", apis.HealthApi.as_view(), name="health"),
    re_path(r"^metrics/?$", apis.MetricsApi.as_view(), name="metrics"),
]
