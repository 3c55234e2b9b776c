from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularSwaggerSplitView

from events_face.core import errors
from events_face.core.schema import EnglishSchemaView

# The admin carries the product's name, in the browser's language.
admin.site.site_header = _("Events Face administration")
admin.site.site_title = _("Events Face administration")
admin.site.index_title = _("Catalogue, registrations and deliveries")

urlpatterns = [
    # The address the server's banner prints and the admin's "View site" opens: links to the rest.
    path("", TemplateView.as_view(template_name="landing.html"), name="home"),
    # The catalogue first: URLs are tried in order, and its reads are most of the traffic.
    path("api/", include("events_face.events.urls")),
    path("api/", include("events_face.accounts.urls")),
    path("api/", include("events_face.calendars.urls")),
    path("api/", include("events_face.monitoring.urls")),
    re_path(r"^api/schema/?$", EnglishSchemaView.as_view(), name="schema"),
    # Swagger UI with its start script as a file (`?script`), so the CSP needs no inline script.
    re_path(
        r"^api/docs/?$",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="docs/swagger_ui.html"),
        name="docs",
    ),
    path("admin/", admin.site.urls),
    # Last: any other /api/ path is a JSON 404, with DEBUG on too, for every method. CSRF
    # guards the session-authenticated admin only; the API's JWT is not a cookie.
    re_path(r"^api/", csrf_exempt(errors.not_found)),
]

handler400 = "events_face.core.errors.bad_request"
handler404 = "events_face.core.errors.not_found"
handler500 = "events_face.core.errors.server_error"
