"""Keyset pagination over (event_time, id).

Each page is one indexed range scan, so page 100,000 costs what page 1 costs:
the cursor carries the last row's (event_time, id), never an offset. Cursors
are opaque to clients; a tampered one is a 400, not a 500.
"""

import base64
import binascii
import json
import uuid
from datetime import datetime

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from events_face.config.errors import ServiceError


class InvalidCursor(ServiceError):
    code = "invalid_cursor"
    default_message = "The cursor is malformed; follow the `next` and `previous` links as given."


def encode_cursor(event, *, back: bool = False) -> str:
    """The cursor that continues after (or, with `back`, before) this event."""
    token = json.dumps([event.event_time.isoformat(), str(event.id), back]).encode()
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


class EventKeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 20
    max_page_size = 100

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        size = self._page_size(request)
        descending = str(queryset.query.order_by[0]).startswith("-")
        cursor = self._decode(request.query_params.get(self.cursor_query_param))
        backwards = cursor is not None and cursor["back"]

        if cursor is not None:
            # Rows strictly after (or, going back, before) the cursor's row.
            after = descending == backwards
            op = "gt" if after else "lt"
            # (event_time, id) beyond the cursor. The redundant `gte`/`lte` on
            # event_time alone gives the database an index range to start
            # from; without it the OR makes it scan from the first row. It goes
            # first in the WHERE clause: SQLite starts its range at the first
            # of several bounds on a column (the list's own "upcoming" bound
            # would otherwise win and every deep page would scan from now).
            beyond_cursor = queryset.model.objects.filter(
                Q(**{f"event_time__{op}e": cursor["time"]}),
                Q(**{f"event_time__{op}": cursor["time"]})
                | Q(event_time=cursor["time"], **{f"id__{op}": cursor["id"]}),
            )
            combined = beyond_cursor & queryset
            combined.query.select_related = queryset.query.select_related  # `&` drops it
            queryset = combined
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

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["Must be a positive integer."]})
        return min(size, self.max_page_size)

    def _link(self, *, back: bool) -> str | None:
        if not (self.has_previous if back else self.has_next) or not self.rows:
            return None
        row = self.rows[0] if back else self.rows[-1]
        url = remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, encode_cursor(row, back=back))

    def _decode(self, raw: str | None) -> dict | None:
        if not raw:
            return None
        try:
            padded = raw + "=" * (-len(raw) % 4)
            time_text, id_text, back = json.loads(base64.urlsafe_b64decode(padded))
            moment = datetime.fromisoformat(time_text)
            if moment.tzinfo is None:
                raise ValueError("naive time in cursor")
            return {
                "time": moment,
                "id": uuid.UUID(id_text),
                "back": bool(back),
            }
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise InvalidCursor() from None
