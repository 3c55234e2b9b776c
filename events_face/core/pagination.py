"""Keyset pagination over (a time field, id).

Each page is one indexed range read, so page 100,000 costs what page 1 costs:
the cursor carries the last row's (time, id), never an offset. Cursors are
opaque to clients; a tampered one, whatever it holds, is a 400, not a 500.
Rows may be model instances or `values()` dicts. Each list subclasses
`KeysetPagination` with its time field (`events/pagination.py`).
"""

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from events_face.core.errors import ServiceError
from events_face.core.storable_dates import EARLIEST_MOMENT, LATEST_MOMENT


class InvalidCursor(ServiceError):
    code = "invalid_cursor"
    default_message = _("The cursor is malformed; follow the `next` and `previous` links as given.")


@dataclass(frozen=True)
class Cursor:
    """A position between two rows: continue after (or, `backwards`, before) (moment, row_id)."""

    moment: datetime
    row_id: uuid.UUID
    backwards: bool = False


def encode_cursor(moment: datetime, row_id: uuid.UUID, *, back: bool = False) -> str:
    """The cursor that continues after (or, with `back`, before) the row (moment, row_id)."""
    token = json.dumps([moment.isoformat(), str(row_id), back]).encode()
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_cursor(raw: str) -> Cursor:
    """The position a cursor names; `InvalidCursor` for anything else."""
    try:
        token = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        time_text, id_text, back = token
        if not (isinstance(time_text, str) and isinstance(id_text, str) and isinstance(back, bool)):
            raise ValueError("cursor fields of the wrong type")
        moment = datetime.fromisoformat(time_text)
        if moment.tzinfo is None:
            raise ValueError("naive time in cursor")
        if not EARLIEST_MOMENT <= moment.astimezone(UTC) <= LATEST_MOMENT:
            raise ValueError("time out of range")
        return Cursor(moment, uuid.UUID(id_text), back)
    # RecursionError: a forged cursor can hold JSON nested deeper than the decoder goes.
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None


def page_size_from(request, *, param: str, default: int, maximum: int) -> int:
    """The requested page size; a 400 for anything but an integer from 1 to `maximum`.

    Out of bounds is refused, not capped: these are the bounds the schema declares
    (`get_schema_operation_parameters`), and the two must agree.
    """
    raw = request.GET.get(param)  # `GET`: a DRF request's and a plain Django request's alike
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= maximum:
        raise ValidationError(
            {param: [_("Must be an integer from 1 to %(maximum)d.") % {"maximum": maximum}]}
        )
    return size


def keyset_condition(*, time_field: str, cursor: Cursor, after: bool) -> Q:
    """Rows strictly after (or before) the cursor's (time, id): the keyset condition, written once.

        time >= t AND (time > t OR (time = t AND id > i))      after; before: <=, <, <

    The redundant bound on the time alone gives the database an index range to
    start from; without it the OR makes it scan from the first row. It goes
    first in the WHERE clause: SQLite starts its range at the first of several
    bounds on a column (a list's own bound, such as the event list's
    "upcoming", would otherwise win and every deep page would scan from it).
    `keyset_condition_sql` is the same condition for hand-written SQL.
    """
    op = "gt" if after else "lt"
    return Q(**{f"{time_field}__{op}e": cursor.moment}) & (
        Q(**{f"{time_field}__{op}": cursor.moment})
        | Q(**{time_field: cursor.moment, f"id__{op}": cursor.row_id})
    )


def keyset_condition_sql(*, time_column: str, id_column: str, moment: str, row_id: str, after: bool) -> str:
    """`keyset_condition` as SQL, for columns and parameter placeholders (such as `%(cursor_time)s`) given."""
    op = ">" if after else "<"
    return (
        f"{time_column} {op}= {moment}"
        f" AND ({time_column} {op} {moment} OR ({time_column} = {moment} AND {id_column} {op} {row_id}))"
    )


def keyset_beyond(queryset: QuerySet, *, time_field: str, cursor: Cursor, after: bool) -> QuerySet:
    """`queryset`'s rows strictly after (or before) the cursor, the keyset condition first in its WHERE."""
    beyond = queryset.model.objects.filter(
        keyset_condition(time_field=time_field, cursor=cursor, after=after)
    )
    combined = beyond & queryset
    combined.query.select_related = queryset.query.select_related  # `&` drops it
    return combined


class KeysetPagination(BasePagination):
    """Reads `cursor` and `page_size`, trims a fetched page and links its neighbours.

    A list fetches `size + 1` rows past the cursor (in reverse order when the
    cursor points backwards) and hands them to `page_from`; `paginate_queryset`
    does both for a plain ordered queryset.
    """

    time_field: str  # the row's time field; a subclass names it
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 20
    max_page_size = 100
    # The URL the links continue from; default: the request's own. A cached list sets
    # its canonical one, so that a shared page carries no other caller's parameters.
    base_url: str | None = None

    def read_request(self, request) -> tuple[Cursor | None, int]:
        """(cursor, page size) from the query string; 400 for bad values."""
        self.request = request
        size = page_size_from(
            request, param=self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )
        raw_cursor = request.GET.get(self.cursor_query_param)
        self.cursor = decode_cursor(raw_cursor) if raw_cursor else None
        return self.cursor, size

    def page_from(self, rows: Sequence, size: int) -> list:
        """The page out of `size + 1` rows fetched past the cursor, in list order."""
        rows = list(rows)
        has_more = len(rows) > size
        rows = rows[:size]
        if self.cursor is not None and self.cursor.backwards:
            rows.reverse()
            self.has_next, self.has_previous = True, has_more
        else:
            self.has_next, self.has_previous = has_more, self.cursor is not None
        self.rows = rows
        return rows

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        """One page of a queryset ordered by (time_field, id), both ascending or both descending."""
        cursor, size = self.read_request(request)
        if cursor is not None:
            descending = str(queryset.query.order_by[0]).startswith("-")
            queryset = keyset_beyond(
                queryset, time_field=self.time_field, cursor=cursor, after=descending == cursor.backwards
            )
            if cursor.backwards:
                queryset = queryset.reverse()
        return self.page_from(queryset[: size + 1], size)

    def links(self) -> dict[str, str | None]:
        base_url = remove_query_param(
            self.base_url or self.request.build_absolute_uri(), self.cursor_query_param
        )
        return {"next": self._link(base_url, back=False), "previous": self._link(base_url, back=True)}

    def get_paginated_response(self, data) -> Response:
        return Response({**self.links(), "results": data})

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
                "description": f"Items per page: default {self.page_size}, from 1 to {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def _position(self, row) -> tuple[datetime, uuid.UUID]:
        if isinstance(row, Mapping):
            return row[self.time_field], row["id"]
        return getattr(row, self.time_field), row.pk

    def _link(self, base_url: str, *, back: bool) -> str | None:
        if not (self.has_previous if back else self.has_next) or not self.rows:
            return None
        moment, row_id = self._position(self.rows[0] if back else self.rows[-1])
        return replace_query_param(
            base_url, self.cursor_query_param, encode_cursor(moment, row_id, back=back)
        )
