"""Reading events and registrations.

The event list and detail read rows as plain tuples and dicts and shape them
into the API's items without model instances or serializers: they are the
hottest path of the service. The list's page is one SQL statement written here
rather than built by the ORM, which costs several times what the database
does for it (see docs/benchmarks.md).

How a page stays one short index read at any table size, with no planner
statistics (a fresh database straight from `bulk_create` or the sync): every
filter is an equality prefix of an index that continues with (event_time, id)
(see `Event.Meta.indexes`), the statement has no join (the venue's name is a
scalar subquery, evaluated for the page's rows only), and it asks for
`size + 1` rows in index order. A set of statuses, which no single index range
covers, is a UNION ALL of one ordered, limited range per status. The `name`
search is the exception: on PostgreSQL the trigram index answers it (the
planner needs statistics for that, which autovacuum and the sync gather); on
SQLite it filters rows in list order. `tests/events/test_event_list_plans.py`
checks the plans.
"""

import functools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone

from events_face.core.pagination import Cursor
from events_face.events.errors import EventNotFound, event_id_parse
from events_face.events.models import Event, Registration, Venue

ALL_STATUSES = "all"

# Columns the list and detail read, in this order.
EVENT_COLUMNS = ("id", "name", "event_time", "registration_deadline", "status", "venue_id", "capacity", "venue_name")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class _EventPageStatement:
    """The SQL of one list page, with its parameters adapted for the database."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def where(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    @staticmethod
    def moment(value: datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(value)

    @staticmethod
    def uuid(value: uuid.UUID) -> Any:
        return Event._meta.pk.get_db_prep_value(value, connection)


def _page_sql(statement: _EventPageStatement, *, statuses: list[str] | None, descending: bool, limit: int) -> tuple[str, list]:
    direction = "DESC" if descending else "ASC"
    order = f"ORDER BY event_time {direction}, id {direction}"
    columns = "id, name, event_time, registration_deadline, status, venue_id, capacity"
    venue_name = "(SELECT name FROM events_venue WHERE events_venue.id = page.venue_id) AS venue_name"
    where = " AND ".join(f"({condition})" for condition in statement.conditions) or "1 = 1"
    if statuses is None or len(statuses) == 1:
        if statuses:
            where, params = f"status = %s AND {where}", [statuses[0], *statement.params]
        else:
            params = list(statement.params)
        inner = f"SELECT {columns} FROM events_event WHERE {where} {order} LIMIT %s"
        return f"SELECT page.*, {venue_name} FROM ({inner}) AS page {order}", [*params, limit]
    # One ordered, limited index range per status, merged.
    branches, params = [], []
    for status in statuses:
        branches.append(f"SELECT * FROM (SELECT {columns} FROM events_event WHERE status = %s AND {where} {order} LIMIT %s) AS branch")
        params += [status, *statement.params, limit]
    union = " UNION ALL ".join(branches)
    return f"SELECT page.*, {venue_name} FROM ({union}) AS page {order} LIMIT %s", [*params, limit]


def _name_condition(name: str) -> tuple[str, str]:
    pattern = f"%{connection.ops.prep_for_like_query(name)}%"
    if connection.vendor == "postgresql":
        # What `icontains` compiles to, so the trigram index on UPPER(name) serves it.
        return "UPPER(name::text) LIKE UPPER(%s)", pattern
    # SQLite's LIKE ignores case already (ASCII letters, as `icontains` there).
    return "name LIKE %s ESCAPE '\\'", pattern


def event_page(
    *, filters: dict[str, Any] | None = None, cursor: Cursor | None = None, size: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Up to `size + 1` rows (dicts of `EVENT_COLUMNS`) of the list past `cursor`, in fetch order.

    Default: the events one can register for now (the rule of `Event.is_open`
    and `EventQuerySet.open_for_registration`; a test holds this SQL to that
    queryset). Giving `status` replaces "open status, deadline not passed"
    with the statuses asked for (`all` lifts it); giving `date_from` or
    `date_to` replaces "not yet started". Fetch order is list order, reversed
    when the cursor points backwards (the paginator turns it round).
    """
    filters = filters or {}
    now = now or timezone.now()
    statement = _EventPageStatement()

    statuses = filters.get("status")
    if not statuses:
        statuses = sorted(Event.OPEN_STATUSES)
        statement.where(
            "registration_deadline IS NULL OR registration_deadline > %s", statement.moment(now)
        )
    elif ALL_STATUSES in statuses:
        statuses = None
    else:
        statuses = sorted(set(statuses))

    descending = filters.get("ordering") == "-event_time"
    if cursor is not None:
        # The redundant bound on the time alone gives the database the index range to
        # start from; without it the OR makes it read from the first row.
        after = descending == cursor.backwards
        op = ">" if after else "<"
        moment = statement.moment(cursor.moment)
        statement.where(f"event_time {op}= %s", moment)
        statement.where(
            f"event_time {op} %s OR (event_time = %s AND id {op} %s)", moment, moment, statement.uuid(cursor.row_id)
        )
        descending = descending != cursor.backwards

    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if date_from is None and date_to is None:
        statement.where("event_time > %s", statement.moment(now))
    if date_from is not None:
        statement.where("event_time >= %s", statement.moment(_start_of(date_from)))
    if date_to is not None:
        # Inclusive: the whole of date_to.
        statement.where("event_time < %s", statement.moment(_start_of(date_to) + timedelta(days=1)))
    if filters.get("venue"):
        statement.where("venue_id = %s", statement.uuid(filters["venue"]))
    if filters.get("name"):
        statement.where(*_name_condition(filters["name"]))
        if statuses and len(statuses) > 1:
            # One range per status would hide the trigram index from PostgreSQL.
            statement.where(f"status IN ({', '.join(['%s'] * len(statuses))})", *statuses)
            statuses = None

    sql, params = _page_sql(statement, statuses=statuses, descending=descending, limit=size + 1)
    with connection.cursor() as db:
        if connection.vendor == "postgresql" and not filters.get("name"):
            sql = _ranges_only(sql)
        db.execute(sql, params)
        while db.description is None:  # past the results of the SET statements
            db.nextset()
        rows = db.fetchall()
    return _as_dicts(rows)


# PostgreSQL planner settings for the list's statement: with sorts and bitmap
# scans ruled out, an ordered index range per status is the only plan left.
_RANGES_ONLY = ("enable_sort", "enable_bitmapscan")


def _ranges_only(sql: str) -> str:
    """`sql` for PostgreSQL to run reading the list's index ranges in order, statistics or not.

    With statistics its planner picks them anyway; without (a table freshly
    loaded, before autovacuum has analysed it) it may estimate that a status
    matches a handful of rows and sort all of them instead, which costs what the
    table holds. `SET LOCAL` lasts for the transaction: a string of several
    statements runs as one (one round trip; Django's default client-side
    binding sends it as a simple query), and inside a caller's transaction
    the settings are put back at the end.
    """
    before = "".join(f"SET LOCAL {name} = off; " for name in _RANGES_ONLY)
    after = "".join(f"; SET LOCAL {name} TO DEFAULT" for name in _RANGES_ONLY) if connection.in_atomic_block else ""
    return before + sql + after


def _as_dicts(rows: list[tuple]) -> list[dict[str, Any]]:
    """Rows of `EVENT_COLUMNS` with each value converted as the ORM would (UUIDs, aware datetimes)."""
    converters = _column_converters(connections[DEFAULT_DB_ALIAS])
    result = []
    for row in rows:
        values = list(row)
        for index, convert, column in converters:
            values[index] = convert(values[index], column, connection)
        result.append(dict(zip(EVENT_COLUMNS, values, strict=True)))
    return result


@functools.cache
def _column_converters(database: BaseDatabaseWrapper) -> list[tuple[int, Any, Any]]:
    """(column index, converter, column) for each conversion the database's rows of `EVENT_COLUMNS` need."""
    fields = [Event._meta.get_field(name) for name in ("id", "name", "event_time", "registration_deadline", "status", "venue")]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(Event._meta.db_table)
        for convert in [*database.ops.get_db_converters(column), *column.get_db_converters(database)]:
            converters.append((index, convert, column))
    return converters


def event_detail(*, event_id: Any) -> dict[str, Any]:
    """One event's row (`EVENT_COLUMNS`); `EventNotFound` for an unknown id."""
    venue_name = Venue.objects.filter(pk=OuterRef("venue_id")).order_by().values("name")[:1]
    row = (
        Event.objects.filter(pk=event_id_parse(event_id))
        .annotate(venue_name=Subquery(venue_name))
        .values(*EVENT_COLUMNS)
        .first()
    )
    if row is None:
        raise EventNotFound()
    return row


def seats_left_add(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row (of the list or the detail) with `seats_left`: its capacity less its confirmed
    registrations (never below 0), None when the capacity is unlimited.

    One more statement, apart from the list's own SQL, when a row has a capacity
    (none otherwise): the registrations are counted for those rows only, each an
    index range (`registration_event_status_idx`). Registrations do not touch the catalogue
    version, so a cached body holding a count lives at most SEATS_LEFT_MAX_AGE
    (`apis`); the register call is the authority.
    """
    ids = [row["id"] for row in rows if row["capacity"] is not None]
    taken = (
        Registration.objects.filter(event=OuterRef("pk"), status=Registration.Status.CONFIRMED)
        .order_by()
        .values("event")
        .annotate(count=Count("pk"))
        .values("count")
    )
    seats = {
        event_id: max(0, capacity - (confirmed or 0))
        for event_id, capacity, confirmed in Event.objects.filter(pk__in=ids)
        .annotate(confirmed=Subquery(taken))
        .values_list("id", "capacity", "confirmed")
    } if ids else {}
    for row in rows:
        row["seats_left"] = seats.get(row["id"])
    return rows


def registration_list(*, user, status: str | None = None) -> QuerySet[Registration]:
    """The user's registrations, newest first, each with its `waitlist_position`."""
    registrations = Registration.objects.filter(user=user)
    if status:
        registrations = registrations.filter(status=status)
    return registrations.with_waitlist_position().select_related("event").order_by("-created_at", "-id")


