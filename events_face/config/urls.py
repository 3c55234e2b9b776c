from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from events_face.core import errors

urlpatterns = [
    path("api/", include("events_face.accounts.urls")),
    path("api/", include("events_face.events.urls")),
    path("api/", include("events_face.monitoring.urls")),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    # Last: any other /api/ path is a JSON 404, with DEBUG on too.
    re_path(r"^api/", errors.not_found),
]

handler400 = "events_face.core.errors.bad_request"
handler404 = "events_face.core.errors.not_found"
handler500 = "events_face.core.errors.server_error"
