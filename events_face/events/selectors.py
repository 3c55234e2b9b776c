"""Reading events and registrations.

The event list and detail read rows as plain tuples and dicts and shape them
into the API's items without model instances or serializers: they are the
hottest path of the service. The list's page is one SQL statement written here
rather than built by the ORM, which costs several times what the database
does for it (see docs/benchmarks.md).

How a page stays one short index read at any table size, with no planner
statistics (a fresh database straight from `bulk_create` or the sync): every
filter is an equality prefix of an index that continues with (event_time, id)
(see `Event.Meta.indexes`), the statement has no join (the venue's name and
the seats taken of an event with a capacity, from its `SeatCount`, are scalar
subqueries, evaluated for the page's rows only), and it asks for
`size + 1` rows in index order. A set of statuses, which no single index range
covers, is a UNION ALL of one ordered, limited range per status. The `name`
search is the exception: on PostgreSQL the trigram index answers it (the
planner needs statistics for that, which autovacuum and the sync gather); on
SQLite it filters rows in list order. `tests/events/test_event_list_plans.py`
checks the plans; `tests/events/test_event_list_equivalence.py` holds the rows
to the ORM's for every filter, page and cursor.

The SQL is written as procrastinate writes its queries: each statement named and
described in one line, named parameters, tables and columns taken from the
models, the list's columns written once (`LIST_FIELDS`). The keyset condition is
`core.pagination`'s and the planner settings are `core.db`'s.
"""

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.utils import timezone

from events_face.core.db import (
    INDEX_RANGES_IN_ORDER,
    converted,
    execute_with_local_settings,
    instance_from_row,
)
from events_face.core.pagination import Cursor, keyset_condition_sql
from events_face.events.errors import EventNotFound, event_id_parse
from events_face.events.models import Event, Registration, SeatCount, Venue

ALL_STATUSES = "all"

# The fields of Event a list row carries, in this order: a column the list adds goes here.
LIST_FIELDS = ("id", "name", "event_time", "registration_deadline", "status", "venue", "capacity")
# What the list and detail read, in this order: those fields (a foreign key as its `_id`), then
# the venue's name and the confirmed registrations (None when the capacity is unlimited).
EVENT_COLUMNS = (*(Event._meta.get_field(name).attname for name in LIST_FIELDS), "venue_name", "seats_taken")

# The list's statements, each named and described in one line; {names} are filled in
# from the models (`_Names`), %(params)s by the database driver.

# -- event_range: one ordered index range of events (of one status, or of any), stopped after `limit` rows.
EVENT_RANGE = "SELECT {columns} FROM {events} WHERE {where} ORDER BY {order} LIMIT %(limit)s"

# -- event_page: the first `limit` rows of its ranges in list order, each with its venue's name
#    and, when it has a capacity, its confirmed registrations counted.
EVENT_PAGE = (
    "SELECT page.*, {venue_name} AS venue_name, {seats_taken} AS seats_taken "
    "FROM ({ranges}) AS page ORDER BY {order} LIMIT %(limit)s"
)

# -- event_one: one event's row by its id, as event_page gives it (the detail).
EVENT_ONE = (
    "SELECT {columns}, {venue_name} AS venue_name, {seats_taken} AS seats_taken "
    "FROM {events} AS page WHERE {id} = %(id)s"
)

# -- registration_state: what registering an address for an event depends on: the event's
#    confirmed and waitlisted registrations (its SeatCount; none is 0, 0), whether the address
#    holds an active (confirmed or waitlisted) registration there, how many registrations the
#    address got since a moment (counted up to a limit, through the index on
#    (lower(email), created_at)), and whether a confirmation code is taken in the event
#    (through the unique index on (event, code)).
REGISTRATION_STATE = (
    "SELECT COALESCE(seats.{seats_confirmed}, 0), COALESCE(seats.{seats_waitlisted}, 0), "
    "EXISTS (SELECT 1 FROM {registrations} WHERE {event_id} = %(event)s "
    "AND {status} IN (%(confirmed)s, %(waitlisted)s) AND LOWER({email}) = LOWER(%(email)s)), "
    "(SELECT COUNT(*) FROM (SELECT 1 FROM {registrations} WHERE LOWER({email}) = %(recent_address)s "
    "AND {created_at} > %(since)s LIMIT %(limit)s) AS recent), "
    # NOT (code = ''): the partial unique index's condition, stated, so SQLite uses it.
    "EXISTS (SELECT 1 FROM {registrations} WHERE {event_id} = %(event)s AND {code} = %(code)s "
    "AND NOT ({code} = '')), "
    # The registering user: true while active, false once deactivated, NULL once deleted.
    "(SELECT {user_active} FROM {users} WHERE {user_id} = %(user)s) "
    "FROM (SELECT 1) AS asked LEFT JOIN {seat_counts} AS seats ON seats.{seats_event_id} = %(event)s"
)

# -- waitlist_position: a waitlisted registration's place: the event's waitlisted (its SeatCount)
#    less those behind it in (created_at, id) order, an index range of
#    `registration_event_status_idx` that is empty for the one who just joined.
#    Positional parameters (event, event, waitlisted, created_at, id), so that it can follow
#    a statement that has them too, in one round trip.
WAITLIST_POSITION = (
    "SELECT COALESCE((SELECT {seats_waitlisted} FROM {seat_counts} WHERE {seats_event_id} = %s), 0) "
    "- (SELECT COUNT(*) FROM {registrations} WHERE {event_id} = %s AND {status} = %s "
    "AND ({created_at}, {id}) > (%s, %s))"
)


@dataclass(frozen=True)
class _Names:
    """Tables and columns of this module's SQL, quoted for one database, taken from the models."""

    events: str
    columns: str  # LIST_FIELDS' columns, comma-separated
    id: str
    name: str
    event_time: str
    registration_deadline: str
    status: str
    venue_id: str
    venue_name: str  # the scalar subquery reading the name of `page`'s venue
    # The scalar subquery reading `page`'s confirmed registrations from its `SeatCount`
    # (one primary-key probe; none is 0); NULL, unread, without a capacity.
    seats_taken: str
    seat_counts: str
    seats_confirmed: str
    seats_waitlisted: str
    seats_event_id: str
    registrations: str
    registration_event_id: str
    registration_status: str
    registration_email: str
    registration_created_at: str
    registration_code: str
    registration_id: str
    users: str
    user_id: str
    user_active: str

    @classmethod
    def of(cls, database: BaseDatabaseWrapper) -> "_Names":
        quote = database.ops.quote_name
        column = {name: quote(Event._meta.get_field(name).column) for name in LIST_FIELDS}
        venues = quote(Venue._meta.db_table)
        venue_pk, venue_name = quote(Venue._meta.pk.column), quote(Venue._meta.get_field("name").column)
        registrations = quote(Registration._meta.db_table)
        registration_event_id = quote(Registration._meta.get_field("event").column)
        registration_status = quote(Registration._meta.get_field("status").column)
        seat_counts = quote(SeatCount._meta.db_table)
        seats_event_id = quote(SeatCount._meta.pk.column)
        seats_confirmed = quote(SeatCount._meta.get_field("confirmed").column)
        seats_waitlisted = quote(SeatCount._meta.get_field("waitlisted").column)
        user_model = get_user_model()
        return cls(
            events=quote(Event._meta.db_table),
            columns=", ".join(column.values()),
            id=column["id"],
            name=column["name"],
            event_time=column["event_time"],
            registration_deadline=column["registration_deadline"],
            status=column["status"],
            venue_id=column["venue"],
            venue_name=f"(SELECT {venue_name} FROM {venues} WHERE {venues}.{venue_pk} = page.{column['venue']})",
            seats_taken=(
                f"CASE WHEN page.{column['capacity']} IS NULL THEN NULL ELSE "
                f"COALESCE((SELECT {seats_confirmed} FROM {seat_counts} WHERE {seat_counts}.{seats_event_id} = page.{column['id']}), 0) END"
            ),
            seat_counts=seat_counts,
            seats_confirmed=seats_confirmed,
            seats_waitlisted=seats_waitlisted,
            seats_event_id=seats_event_id,
            registrations=registrations,
            registration_event_id=registration_event_id,
            registration_status=registration_status,
            registration_email=quote(Registration._meta.get_field("email").column),
            registration_created_at=quote(Registration._meta.get_field("created_at").column),
            registration_code=quote(Registration._meta.get_field("confirmation_code").column),
            registration_id=quote(Registration._meta.pk.column),
            users=quote(user_model._meta.db_table),
            user_id=quote(user_model._meta.pk.column),
            user_active=quote(user_model._meta.get_field("is_active").column),
        )


@functools.cache
def _names(database: BaseDatabaseWrapper) -> _Names:
    return _Names.of(database)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _moment(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _uuid(value: Any) -> Any:
    return Event._meta.pk.get_db_prep_value(value, connection)


def _page_sql(names: _Names, conditions: list[str], *, statuses: list[str] | None, descending: bool) -> str:
    """`EVENT_PAGE` over one `EVENT_RANGE` per status (`%(status_N)s`), or one range of any status."""
    direction = "DESC" if descending else "ASC"
    order = f"{names.event_time} {direction}, {names.id} {direction}"

    def event_range(status_param: str | None) -> str:
        status = [f"{names.status} = %({status_param})s"] if status_param else []
        where = " AND ".join(f"({condition})" for condition in [*status, *conditions]) or "1 = 1"
        return EVENT_RANGE.format(columns=names.columns, events=names.events, where=where, order=order)

    if statuses is None:
        ranges = event_range(None)
    elif len(statuses) == 1:
        ranges = event_range("status_0")
    else:
        # One ordered, limited index range per status, merged.
        ranges = " UNION ALL ".join(
            f"SELECT * FROM ({event_range(f'status_{index}')}) AS range_{index}"
            for index in range(len(statuses))
        )
    return EVENT_PAGE.format(
        venue_name=names.venue_name, seats_taken=names.seats_taken, ranges=ranges, order=order
    )


def event_page(
    *,
    filters: dict[str, Any] | None = None,
    cursor: Cursor | None = None,
    size: int,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Up to `size + 1` rows (dicts of `EVENT_COLUMNS`) of the list past `cursor`, in fetch order.

    Default: the events one can register for now (the rule of `Event.is_open`
    and `EventQuerySet.open_for_registration`). Giving `status` replaces "open
    status, deadline not passed" (`registration_not_closed`) with the statuses
    asked for (`all` lifts it); giving `date_from` or `date_to` replaces "not
    yet started" (`upcoming`). Fetch order is list order, reversed when the
    cursor points backwards (the paginator turns it round).
    `tests/events/test_event_list_equivalence.py` holds it to the ORM, filter by filter.
    """
    filters = filters or {}
    now = now or timezone.now()
    names = _names(connections[DEFAULT_DB_ALIAS])
    conditions: list[str] = []
    params: dict[str, Any] = {
        "limit": size + 1,
        "now": _moment(now),
    }

    statuses = filters.get("status")
    if not statuses:
        statuses = sorted(Event.OPEN_STATUSES)
        conditions.append(f"{names.registration_deadline} IS NULL OR {names.registration_deadline} > %(now)s")
    elif ALL_STATUSES in statuses:
        statuses = None
    else:
        statuses = sorted(set(statuses))

    descending = filters.get("ordering") == "-event_time"
    if cursor is not None:
        params.update(cursor_time=_moment(cursor.moment), cursor_id=_uuid(cursor.row_id))
        conditions.append(
            keyset_condition_sql(
                time_column=names.event_time,
                id_column=names.id,
                moment="%(cursor_time)s",
                row_id="%(cursor_id)s",
                after=descending == cursor.backwards,
            )
        )
        descending = descending != cursor.backwards

    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if date_from is None and date_to is None:
        conditions.append(f"{names.event_time} > %(now)s")
    if date_from is not None:
        params["date_from"] = _moment(_start_of(date_from))
        conditions.append(f"{names.event_time} >= %(date_from)s")
    if date_to is not None:
        # Inclusive: the whole of date_to.
        params["date_to_end"] = _moment(_start_of(date_to) + timedelta(days=1))
        conditions.append(f"{names.event_time} < %(date_to_end)s")
    if filters.get("venue"):
        params["venue"] = _uuid(filters["venue"])
        conditions.append(f"{names.venue_id} = %(venue)s")
    if statuses:
        params.update((f"status_{index}", status) for index, status in enumerate(statuses))
    if filters.get("name"):
        params["name"] = f"%{connection.ops.prep_for_like_query(filters['name'])}%"
        conditions.append(_name_condition(names))
        if statuses and len(statuses) > 1:
            # One range per status would hide the trigram index from PostgreSQL.
            in_list = ", ".join(f"%(status_{index})s" for index in range(len(statuses)))
            conditions.append(f"{names.status} IN ({in_list})")
            statuses = None

    sql = _page_sql(names, conditions, statuses=statuses, descending=descending)
    # A name search leaves the planner free: the trigram index is read through a bitmap scan.
    planner_settings = {} if filters.get("name") else INDEX_RANGES_IN_ORDER
    with connection.cursor() as db:
        execute_with_local_settings(db, sql, params, settings=planner_settings)
        rows = db.fetchall()
    return _as_dicts(rows)


def _name_condition(names: _Names) -> str:
    """`name` holds `%(name)s`, a LIKE pattern, ignoring case as `icontains` does."""
    if connection.vendor == "postgresql":
        # What `icontains` compiles to, so the trigram index on UPPER(name) serves it.
        return f"UPPER({names.name}::text) LIKE UPPER(%(name)s)"
    # SQLite's LIKE ignores case already (ASCII letters, as `icontains` there).
    return f"{names.name} LIKE %(name)s ESCAPE '\\'"


# LIST_FIELDS as model fields, the first columns of every list and detail row.
_LIST_MODEL_FIELDS = tuple(Event._meta.get_field(name) for name in LIST_FIELDS)


def _as_dicts(rows: list[tuple]) -> list[dict[str, Any]]:
    """Rows of `EVENT_COLUMNS` with each value converted as the ORM would (UUIDs, aware datetimes)."""
    database = connections[DEFAULT_DB_ALIAS]
    return [
        dict(zip(EVENT_COLUMNS, converted(row, _LIST_MODEL_FIELDS, database), strict=True)) for row in rows
    ]


def event_detail(*, event_id: Any) -> dict[str, Any]:
    """One event's row (`EVENT_COLUMNS`); `EventNotFound` for an unknown id."""
    names = _names(connections[DEFAULT_DB_ALIAS])
    sql = EVENT_ONE.format(
        columns=names.columns,
        venue_name=names.venue_name,
        seats_taken=names.seats_taken,
        events=names.events,
        id=names.id,
    )
    with connection.cursor() as db:
        db.execute(sql, {"id": _uuid(event_id_parse(event_id))})
        rows = db.fetchall()
    if not rows:
        raise EventNotFound()
    return _as_dicts(rows)[0]


def confirmed_count(*, event: Event) -> int:
    """The event's confirmed registrations, as the database keeps them (`SeatCount`)."""
    return SeatCount.objects.filter(event=event).values_list("confirmed", flat=True).first() or 0


def seats_left_of(row: dict[str, Any]) -> int | None:
    """A row's (`EVENT_COLUMNS`) seats not yet confirmed: its capacity less its confirmed
    registrations (never below 0); None when the capacity is unlimited.

    Registrations do not touch the catalogue version, so a cached body holding a
    count lives at most SEATS_LEFT_MAX_AGE (`apis`); the register call is the authority.
    """
    capacity = row["capacity"]
    return None if capacity is None else max(0, capacity - row["seats_taken"])


@dataclass(frozen=True)
class RegistrationState:
    confirmed: int  # the event's confirmed registrations
    waiting: int  # the event's waitlisted registrations
    address_registered: bool  # the address holds a confirmed or waitlisted registration
    address_recent: int  # the address's registrations since `since`, at most `limit`
    code_taken: bool
    user_active: bool | None  # the registering user's `is_active`; None: no such user


def _registration_sql(template: str) -> str:
    """`template` (`REGISTRATION_STATE`) with the registrations table's names filled in."""
    return _registration_sql_for(template, connections[DEFAULT_DB_ALIAS])


@functools.cache
def _registration_sql_for(template: str, database: BaseDatabaseWrapper) -> str:
    names = _names(database)
    return template.format(
        registrations=names.registrations,
        event_id=names.registration_event_id,
        status=names.registration_status,
        email=names.registration_email,
        created_at=names.registration_created_at,
        code=names.registration_code,
        id=names.registration_id,
        seat_counts=names.seat_counts,
        seats_confirmed=names.seats_confirmed,
        seats_waitlisted=names.seats_waitlisted,
        seats_event_id=names.seats_event_id,
        users=names.users,
        user_id=names.user_id,
        user_active=names.user_active,
    )


def registration_state_statement(
    *, event_id: uuid.UUID, user_id: Any, email: str, since: datetime, limit: int, code: str
) -> tuple[str, dict[str, Any]]:
    """What registering `email` for the event depends on, as one statement (`REGISTRATION_STATE`),
    with its parameters; its row goes to `registration_state_of`.

    Read by `registration_create` under the event's lock and the address's, in the
    lock's own round trip (`locking.event_locked_reading`), so it stays true until the
    registration commits. One statement instead of five ORM queries: each of those cost
    more to build than the database spent on it. The address is compared as the unique
    constraint `registration_unique_active_event_email_ci` compares it (LOWER), and
    counted as the address rate counts it (lowercased), so their indexes answer both.
    The user's row is read here too, not by the authentication (a round trip less).
    """
    params = {
        "event": _uuid(event_id),
        "confirmed": Registration.Status.CONFIRMED.value,
        "waitlisted": Registration.Status.WAITLISTED.value,
        "email": email,
        "recent_address": email.lower(),
        "since": _moment(since),
        "limit": limit,
        "code": code,
        "user": user_id,
    }
    return _registration_sql(REGISTRATION_STATE), params


def registration_state_of(row: tuple) -> RegistrationState:
    confirmed, waiting, registered, recent, taken, user_active = row
    return RegistrationState(
        confirmed=confirmed,
        waiting=waiting,
        address_registered=bool(registered),
        address_recent=recent,
        code_taken=bool(taken),
        user_active=None if user_active is None else bool(user_active),
    )


def waitlist_position_read(*, registration: Registration, preceded_by: tuple[str, list] | None = None) -> int:
    """A waitlisted registration's place in its event's queue (1 for the next to be promoted),
    as `RegistrationQuerySet.with_waitlist_position` counts it, in one statement
    (`WAITLIST_POSITION`) whose cost is the entries behind it: none for the newest.

    `preceded_by` (SQL with `%s` parameters, and the parameters: a registration's INSERT)
    runs first, in the same round trip on PostgreSQL (client-side binding sends it as one query).
    """
    event = _uuid(registration.event_id)
    params = [
        event,
        event,
        Registration.Status.WAITLISTED.value,
        _moment(registration.created_at),
        _uuid(registration.pk),
    ]
    sql = _registration_sql(WAITLIST_POSITION)
    with connection.cursor() as db:
        if preceded_by is None:
            db.execute(sql, params)
        elif connection.vendor == "postgresql":
            db.execute(f"{preceded_by[0]}; {sql}", [*preceded_by[1], *params])
            db.nextset()  # past the INSERT's
        else:
            db.execute(*preceded_by)
            db.execute(sql, params)
        return db.fetchone()[0]


@dataclass(frozen=True)
class SeatsHeld:
    """An event's confirmed and waitlisted registrations, as its `SeatCount` keeps them, and
    who a freed seat would go to: the first on the waiting list (None: nobody waits) and
    whether the code drawn for them is taken (`registration_with_seats_statement`)."""

    confirmed: int
    waitlisted: int
    first_waiting: Registration | None = None
    code: str = ""  # drawn for the first waiting
    code_taken: bool = True


# -- registration_with_seats: every column of one registration, its event's SeatCount
#    (confirmed, waitlisted; none is 0, 0), every column of the event's first waitlisted
#    registration (`waiting_order`; one step into `registration_event_status_idx`, NULLs
#    when nobody waits), whether the code drawn for a promotion is taken already, and the
#    cancelling owner's `is_active` (NULL: no such user, or no owner asked about).
REGISTRATION_WITH_SEATS = (
    "SELECT {columns}, COALESCE(seats.{seats_confirmed}, 0), COALESCE(seats.{seats_waitlisted}, 0), "
    "{first_columns}, "
    # NOT (code = ''): the partial unique index's condition, stated, so SQLite uses it.
    "EXISTS (SELECT 1 FROM {registrations} WHERE {event_id} = registration.{event_id} "
    "AND {code} = %(code)s AND NOT ({code} = '')), "
    "(SELECT {user_active} FROM {users} WHERE {user_id} = %(user)s) "
    "FROM {registrations} AS registration LEFT JOIN {seat_counts} AS seats "
    "ON seats.{seats_event_id} = registration.{event_id} "
    "LEFT JOIN {registrations} AS queue_head ON queue_head.{id} = ("
    "SELECT waiting.{id} FROM {registrations} AS waiting WHERE waiting.{event_id} = registration.{event_id} "
    "AND waiting.{status} = %(waitlisted)s ORDER BY waiting.{created_at}, waiting.{id} LIMIT 1) "
    "WHERE registration.{id} = %(registration)s"
)


@functools.cache
def _registration_with_seats_sql(database: BaseDatabaseWrapper) -> str:
    quote = database.ops.quote_name
    fields = Registration._meta.concrete_fields
    return _registration_sql_for(
        REGISTRATION_WITH_SEATS.replace(
            "{columns}", ", ".join(f"registration.{quote(field.column)}" for field in fields)
        ).replace("{first_columns}", ", ".join(f"queue_head.{quote(field.column)}" for field in fields)),
        database,
    )


def registration_with_seats_statement(
    *, registration_id: uuid.UUID, code: str, owner_id: Any = None
) -> tuple[str, dict[str, Any]]:
    """`REGISTRATION_WITH_SEATS` and its parameters (`code`: the one drawn for a promotion;
    `owner_id`: the cancelling user's key, whose row is read too): read by a cancellation in
    the event lock's round trip (`locking.event_locked_reading`); its row goes to
    `registration_with_seats_of`."""
    return _registration_with_seats_sql(connections[DEFAULT_DB_ALIAS]), {
        "registration": _uuid(registration_id),
        "waitlisted": Registration.Status.WAITLISTED.value,
        "code": code,
        "user": owner_id,
    }


_REGISTRATION_PK_INDEX = Registration._meta.concrete_fields.index(Registration._meta.pk)


def registration_with_seats_of(row: tuple, *, code: str) -> tuple[Registration, SeatsHeld, bool | None]:
    """The reading's row: the registration, its event's `SeatsHeld` (`code`: the statement's),
    and the owner's `is_active` (None: no such user, or none asked about)."""
    width = len(Registration._meta.concrete_fields)
    database = connections[DEFAULT_DB_ALIAS]
    registration = instance_from_row(Registration, row[:width], database)
    confirmed, waitlisted = row[width : width + 2]
    first = row[width + 2 : 2 * width + 2]
    return (
        registration,
        SeatsHeld(
            confirmed=confirmed,
            waitlisted=waitlisted,
            first_waiting=None
            if first[_REGISTRATION_PK_INDEX] is None
            else instance_from_row(Registration, first, database),
            code=code,
            code_taken=bool(row[-2]),
        ),
        (None if row[-1] is None else bool(row[-1])),
    )


def registration_list(*, user, status: str | None = None) -> QuerySet[Registration]:
    """The user's registrations, newest first, each with its `waitlist_position`."""
    registrations = Registration.objects.filter(user=user)
    if status:
        registrations = registrations.filter(status=status)
    return registrations.with_waitlist_position().select_related("event").order_by("-created_at", "-id")
