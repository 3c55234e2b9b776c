"""The door's API, for check-in staff: scan a code, see the counts, download the attendee list.

Staff are superusers and users holding `events.check_in` (the "Check-in staff"
group has it); anyone else gets 403 `permission_denied`.
"""

import csv
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from events_face.core import schema
from events_face.core.idempotency import idempotency_key_parameter, idempotency_key_read
from events_face.core.throttling import ScopedCacheThrottle
from events_face.events.apis import EVENT_ID
from events_face.events.check_in import event_attendance, event_attendees, registration_check_in

CHECK_IN_PERMISSION = "events.check_in"


class IsCheckInStaff(BasePermission):
    message = _("Only check-in staff may do this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(CHECK_IN_PERMISSION))


class TextField(serializers.CharField):
    """A string, and only a string: DRF's CharField would take the number 482913 as "482913"."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CheckInInputSerializer(serializers.Serializer):
    code = TextField(max_length=16, help_text="The confirmation code the registrant shows.")


class CheckedInSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    full_name = serializers.CharField()
    checked_in_at = serializers.DateTimeField()


class AttendanceSerializer(serializers.Serializer):
    capacity = serializers.IntegerField(allow_null=True, help_text="Seats; null: unlimited.")
    confirmed = serializers.IntegerField()
    waitlisted = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    checked_in = serializers.IntegerField()


STAFF_ONLY = schema.error("Not check-in staff (`permission_denied`).")


class StaffApi(APIView):
    permission_classes = [IsCheckInStaff]


class CheckInApi(StaffApi):
    # Per staff user, against guessing codes: CHECK_IN_THROTTLE_RATE.
    throttle_classes = [ScopedCacheThrottle]
    throttle_scope = "check_in"

    @extend_schema(
        operation_id="events_check_in",
        request=CheckInInputSerializer,
        parameters=[
            EVENT_ID,
            idempotency_key_parameter(
                "A scan retried with the key of a scan that succeeded answers that 200 again."
            ),
        ],
        responses={
            200: OpenApiResponse(CheckedInSerializer, description="Checked in."),
            400: schema.BAD_REQUEST,
            401: schema.UNAUTHORIZED,
            403: STAFF_ONLY,
            404: schema.error(
                "Unknown event (`not_found`), or no confirmed registration has this code (`invalid_code`)."
            ),
            409: schema.error_with_details(
                "`already_checked_in` (the error then also carries `registration`: its `id`, `full_name` "
                "and first `checked_in_at`), `registration_cancelled`, or `check_in_closed` (outside "
                "the check-in window).",
                name="CheckInConflict",
                registration=CheckedInSerializer(
                    required=False,
                    help_text="With `already_checked_in` only: who checked in, and when first.",
                ),
            ),
            429: schema.error("Too many scans by this user (`throttled`); see Retry-After."),
        },
    )
    def post(self, request, event_id: str):
        payload = CheckInInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        registration = registration_check_in(
            event_id=event_id,
            code=payload.validated_data["code"],
            staff_user=request.user,
            idempotency_key=idempotency_key_read(request),
        )
        return Response(CheckedInSerializer(registration).data)


class AttendanceApi(StaffApi):
    @extend_schema(
        operation_id="events_attendance",
        parameters=[EVENT_ID],
        responses={
            200: AttendanceSerializer,
            401: schema.UNAUTHORIZED,
            403: STAFF_ONLY,
            404: schema.NOT_FOUND,
        },
    )
    def get(self, request, event_id: str):
        return Response(AttendanceSerializer(event_attendance(event_id=event_id)).data)


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ATTENDEE_HEADER = ("name", "email", "status", "registered", "checked_in")


def spreadsheet_safe(value: str) -> str:
    """`value` as text a spreadsheet shows and never evaluates: a formula's first character is quoted."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _moment(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


class _Line:
    """A file-like object whose `write` returns what it was given: csv.writer then yields lines."""

    def write(self, line: str) -> str:
        return line


class AttendeesCsvApi(StaffApi):
    @extend_schema(
        operation_id="events_attendees_csv",
        parameters=[EVENT_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="One line per registration, by time registered: "
                + ", ".join(ATTENDEE_HEADER)
                + ". Cells a spreadsheet would run as a formula start with an apostrophe.",
            ),
            401: schema.UNAUTHORIZED,
            403: STAFF_ONLY,
            404: schema.NOT_FOUND,
        },
    )
    def get(self, request, event_id: str):
        rows = event_attendees(event_id=event_id)  # an unknown event: 404 before streaming
        writer = csv.writer(_Line())

        def lines():
            yield writer.writerow(ATTENDEE_HEADER)
            for row in rows:
                yield writer.writerow(
                    [
                        spreadsheet_safe(row["full_name"]),
                        spreadsheet_safe(row["email"]),
                        row["status"],
                        _moment(row["created_at"]),
                        _moment(row["checked_in_at"]),
                    ]
                )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="attendees-{event_id}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
