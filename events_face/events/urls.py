from django.urls import re_path

from events_face.events import apis, check_in_apis

# Every path answers with and without the trailing slash.
urlpatterns = [
    re_path(r"^events/?$", apis.EventListApi.as_view(), name="event-list"),
    re_path(r"^events/(?P<event_id>[^/]+)/?$", apis.EventDetailApi.as_view(), name="event-detail"),
    re_path(
        r"^events/(?P<event_id>[^/]+)/register/?$",
        apis.EventRegisterApi.as_view(),
        name="event-register",
    ),
    re_path(r"^registrations/?$", apis.RegistrationListApi.as_view(), name="registration-list"),
    re_path(
        r"^registrations/cancel/(?P<token>[^/]+)/?$",
        apis.RegistrationCancelLinkApi.as_view(),
        name="registration-cancel-link",
    ),
    re_path(
        r"^registrations/(?P<registration_id>[^/]+)/cancel/?$",
        apis.RegistrationCancelApi.as_view(),
        name="registration-cancel",
    ),
    re_path(
        r"^events/(?P<event_id>[^/]+)/check-in/?$", check_in_apis.CheckInApi.as_view(), name="event-check-in"
    ),
    re_path(
        r"^events/(?P<event_id>[^/]+)/attendance/?$",
        check_in_apis.AttendanceApi.as_view(),
        name="event-attendance",
    ),
    re_path(
        r"^events/(?P<event_id>[^/]+)/attendees\.csv$",
        check_in_apis.AttendeesCsvApi.as_view(),
        name="event-attendees",
    ),
]
