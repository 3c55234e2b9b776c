"""Calendar files: one event's (JWT), and a personal feed behind a secret URL (no JWT).

Both answer `text/calendar` with an ETag of the file's bytes; `If-None-Match`
with it answers 304, so calendar apps that poll the feed download it only when
an event in it changed. Errors are the API's JSON errors.
"""

import hashlib

from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from events_face.accounts.authentication import AccessTokenAuthentication
from events_face.calendars.ics import calendar_file
from events_face.calendars.selectors import calendar_event, feed_events, feed_owner
from events_face.calendars.services import calendar_feed_issue, calendar_feed_revoke
from events_face.core import schema
from events_face.core.errors import ServiceError
from events_face.events.apis import EVENT_ID, JSONOnly

CALENDAR_MEDIA_TYPE = "text/calendar"
# Calendar apps poll; each poll asks again (cheap with the ETag), none reuses a stale copy.
CALENDAR_CACHE_CONTROL = "private, no-cache"
FEED_NAME = "Events Face"


class FeedNotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_message = _("No calendar feed at this address.")


def calendar_response(request, body: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{CALENDAR_MEDIA_TYPE}; charset=utf-8")
    response["ETag"] = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    response["Cache-Control"] = CALENDAR_CACHE_CONTROL
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return get_conditional_response(request, etag=response["ETag"], response=response)


CALENDAR_FILE = OpenApiResponse(OpenApiTypes.STR, description="An iCalendar (RFC 5545) file.")
NOT_MODIFIED = OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match.")


class EventCalendarApi(APIView):
    # The file depends on the event only: the token's signature and expiry suffice.
    authentication_classes = [AccessTokenAuthentication]
    content_negotiation_class = JSONOnly  # errors are JSON whatever a calendar app accepts

    @extend_schema(
        operation_id="events_calendar",
        parameters=[EVENT_ID],
        responses={
            (200, CALENDAR_MEDIA_TYPE): CALENDAR_FILE,
            304: NOT_MODIFIED,
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
        },
    )
    def get(self, request, event_id: str):
        row = calendar_event(event_id=event_id)
        return calendar_response(request, calendar_file([row]), filename=f"{row['id']}.ics")


FEED_URL = inline_serializer(
    name="CalendarFeedUrl",
    fields={
        "url": serializers.URLField(help_text="The feed's secret URL, for a calendar app to subscribe to.")
    },
)


class CalendarFeedTokenApi(APIView):
    @extend_schema(
        operation_id="calendar_token_issue",
        request=None,
        responses={
            201: OpenApiResponse(
                FEED_URL, description="A new feed URL; any earlier one answers 404 from now on."
            ),
            401: schema.UNAUTHORIZED,
        },
    )
    def post(self, request):
        token = calendar_feed_issue(user=request.user)
        url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": token}))
        return Response({"url": url}, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="calendar_token_revoke",
        request=None,
        responses={
            204: OpenApiResponse(description="The feed URL answers 404 from now on."),
            401: schema.UNAUTHORIZED,
        },
    )
    def delete(self, request):
        calendar_feed_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarFeedApi(APIView):
    # The URL is the credential: calendar apps cannot send a JWT.
    authentication_classes = []
    permission_classes = [AllowAny]
    content_negotiation_class = JSONOnly

    @extend_schema(
        operation_id="calendar_feed",
        auth=[],
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={
            (200, CALENDAR_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.STR,
                description="The events of the feed owner's confirmed registrations; cancelled events "
                "stay with STATUS:CANCELLED.",
            ),
            304: NOT_MODIFIED,
            404: schema.error("No feed has this token (never issued, replaced or revoked): `not_found`."),
        },
    )
    def get(self, request, token: str):
        user = feed_owner(token=token)
        if user is None:
            raise FeedNotFound()
        return calendar_response(
            request, calendar_file(feed_events(user=user), name=FEED_NAME), filename="events.ics"
        )
