from django.urls import re_path

from events_face.calendars import apis

# Every path answers with and without the trailing slash (but for the .ics files).
urlpatterns = [
    re_path(
        r"^events/(?P<event_id>[^/]+)/calendar\.ics$", apis.EventCalendarApi.as_view(), name="event-calendar"
    ),
    re_path(r"^calendar/token/?$", apis.CalendarFeedTokenApi.as_view(), name="calendar-token"),
    re_path(
        r"^calendar/(?P<token>[A-Za-z0-9_-]{1,128})\.ics$",
        apis.CalendarFeedApi.as_view(),
        name="calendar-feed",
    ),
]
