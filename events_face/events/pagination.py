"""Keyset pagination over (a time field, id).

Each page is one indexed range scan, so page 100,000 costs what page 1 costs:
the cursor carries the last row's (time, id), never an offset. Cursors are
opaque to clients; a tampered one, whatever it holds, is a 400, not a 500.
The queryset must be ordered by (time_field, id), both ascending or both
descending.
"""

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime

from django.db.models import Model, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from events_face.config.errors import ServiceError

# Years both databases store and Python's datetime can shift by a UTC offset.
EARLIEST_YEAR, LATEST_YEAR = 2, 9998


class InvalidCursor(ServiceError):
    code = "invalid_cursor"
    default_message = "The cursor is malformed; follow the `next` and `previous` links as given."


def encode_cursor(row: Model, *, time_field: str = "event_time", back: bool = False) -> str:
    """The cursor that continues after (or, with `back`, before) this row."""
    token = json.dumps([getattr(row, time_field).isoformat(), str(row.pk), back]).encode()
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, uuid.UUID, bool]:
    """(time, id, backwards) from a cursor; `InvalidCursor` for anything else."""
    try:
        token = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        time_text, id_text, back = token
        if not (isinstance(time_text, str) and isinstance(id_text, str) and isinstance(back, bool)):
            raise ValueError("cursor fields of the wrong type")
        moment = datetime.fromisoformat(time_text)
        if moment.tzinfo is None:
            raise ValueError("naive time in cursor")
        if not EARLIEST_YEAR <= moment.astimezone(UTC).year <= LATEST_YEAR:
            raise ValueError("time out of range")
        return moment, uuid.UUID(id_text), back
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None


def page_size_from(request, *, param: str, default: int, maximum: int) -> int:
    """The requested page size, capped at `maximum`; a 400 for anything but a positive integer."""
    raw = request.query_params.get(param)
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 1:
        raise ValidationError({param: ["Must be a positive integer."]})
    return min(size, maximum)


class KeysetPagination(BasePagination):
    time_field = "event_time"
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 20
    max_page_size = 100

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        size = page_size_from(
            request, param=self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )
        descending = str(queryset.query.order_by[0]).startswith("-")
        raw_cursor = request.query_params.get(self.cursor_query_param)
        cursor = decode_cursor(raw_cursor) if raw_cursor else None
        backwards = cursor is not None and cursor[2]

        if cursor is not None:
            queryset = self._beyond(queryset, cursor, after=descending == backwards)
        if backwards:
            queryset = queryset.reverse()

        rows = list(queryset[: size + 1])
        has_more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
            self.has_next, self.has_previous = True, has_more
        else:
            self.has_next, self.has_previous = has_more, cursor is not None
        self.rows = rows
        return rows

    def _beyond(self, queryset: QuerySet, cursor: tuple, *, after: bool) -> QuerySet:
        """Rows strictly after (or before) the cursor's (time, id).

        The redundant `gte`/`lte` on the time alone gives the database an index
        range to start from; without it the OR makes it scan from the first row.
        It goes first in the WHERE clause: SQLite starts its range at the first of
        several bounds on a column (a list's own bound, such as the event list's
        "upcoming", would otherwise win and every deep page would scan from it).
        """
        moment, row_id, _ = cursor
        op = "gt" if after else "lt"
        field = self.time_field
        beyond = queryset.model.objects.filter(
            Q(**{f"{field}__{op}e": moment}),
            Q(**{f"{field}__{op}": moment}) | Q(**{field: moment, f"id__{op}": row_id}),
        )
        combined = beyond & queryset
        combined.query.select_related = queryset.query.select_related  # `&` drops it
        return combined

    def get_paginated_response(self, data) -> Response:
        return Response(
            {"next": self._link(back=False), "previous": self._link(back=True), "results": data}
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Opaque cursor from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Items per page (default {self.page_size}, at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def _link(self, *, back: bool) -> str | None:
        if not (self.has_previous if back else self.has_next) or not self.rows:
            return None
        row = self.rows[0] if back else self.rows[-1]
        url = remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        cursor = encode_cursor(row, time_field=self.time_field, back=back)
        return replace_query_param(url, self.cursor_query_param, cursor)


class EventKeysetPagination(KeysetPagination):
    time_field = "event_time"


class RegistrationKeysetPagination(KeysetPagination):
    time_field = "created_at"
