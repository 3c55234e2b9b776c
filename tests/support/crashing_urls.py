"""The project's URLs plus views that crash, inside and outside /api/, for the error-page tests.

The project's handlers come along: Django looks them up in the active URLconf.
"""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from events_face.config.urls import handler400, handler404, handler500  # noqa: F401
from events_face.config.urls import urlpatterns as project_urlpatterns


def crashing_page(request):
    raise RuntimeError("a bug in an HTML page")


class CrashingApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        raise RuntimeError("a bug in an API view")


# Before the project's own: its last pattern answers every other /api/ path with a 404.
urlpatterns = [
    path("crash/", crashing_page),
    path("api/crash/", CrashingApi.as_view()),
    *project_urlpatterns,
]
