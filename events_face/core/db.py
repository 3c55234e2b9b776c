"""Database helpers every app may use: PostgreSQL planner settings, lock waits, one-array `IN` lists,
and plain SQL for hot paths whose ORM query cost more to build than the database spent on it
(a row by its key, a new row's INSERT, an UPDATE; rows converted as the ORM converts them).

Planner settings and lock timeouts have one home here. A statement that must read its index
ranges in order whatever the planner's statistics say (a freshly loaded table
has none until autovacuum or ANALYZE) runs after `SET LOCAL` of the settings
that rule out the other plans. `SET LOCAL` lasts for the transaction: for a
whole batch of statements (`index_probes_only`, the cleanup), or for one
statement sent together with its settings (`execute_with_local_settings`, the
event list).
"""

import functools
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field, Lookup, Model, Q

# Sequential and bitmap scans and sorts ruled out: only index reads are left. The
# cost that puts on the plans it rules out would trip JIT compilation (about 90 ms
# per statement), so that goes too.
INDEX_PROBES_ONLY = {"enable_seqscan": "off", "enable_bitmapscan": "off", "enable_sort": "off", "jit": "off"}

# Sorts and bitmap scans ruled out: an ordered index range (or a merge of several,
# one per status) is the only plan left for the event list's page.
INDEX_RANGES_IN_ORDER = {"enable_sort": "off", "enable_bitmapscan": "off"}

# sqlite3.connect's busy timeout in seconds when the connection's OPTIONS name none.
SQLITE_DEFAULT_TIMEOUT = 5.0


def set_local_sql(settings: Mapping[str, str]) -> str:
    """`SET LOCAL name = value; ...` for each of `settings` (PostgreSQL)."""
    return "".join(f"SET LOCAL {name} = {value}; " for name, value in settings.items())


def reset_local_sql(settings: Mapping[str, str]) -> str:
    """`; SET LOCAL name TO DEFAULT ...` for each of `settings` (PostgreSQL): back to the session's values."""
    return "".join(f"; SET LOCAL {name} TO DEFAULT" for name in settings)


def execute_with_local_settings(
    cursor, sql: str, params: Mapping[str, Any], *, settings: Mapping[str, str], lasting: bool = False
) -> None:
    """Run `sql` on `cursor` with the `settings` in force for it alone (PostgreSQL), in one round trip;
    with `lasting`, for the rest of the caller's transaction.

    `SET LOCAL`, the statement and, inside a caller's transaction and unless
    `lasting`, the reset of the settings go as one string (Django's default
    client-side binding sends it as one simple query; outside a transaction it
    runs as one). Afterwards the cursor stands at the statement's rows.
    Elsewhere: just `sql`.
    """
    connection = cursor.db
    if connection.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    reset = reset_local_sql(settings) if connection.in_atomic_block and not lasting else ""
    cursor.execute(set_local_sql(settings) + sql + reset, params)
    while cursor.description is None:  # past the SET statements' empty results
        cursor.nextset()


@functools.cache
def column_converters(fields: tuple[Field, ...], database: BaseDatabaseWrapper) -> list[tuple[int, Any, Any]]:
    """(index, converter, column) for each conversion the database's raw values of `fields`, in
    that order, need before they are what the ORM gives (UUIDs, aware datetimes, booleans)."""
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        for convert in [*database.ops.get_db_converters(column), *column.get_db_converters(database)]:
            converters.append((index, convert, column))
    return converters


def row_by_key_sql(model: type[Model], database: BaseDatabaseWrapper, *, key: str = "%s") -> str:
    """`SELECT <every concrete column>` of one `model` row whose primary key is the parameter
    `key`; its rows go to `instance_from_row`."""
    quote = database.ops.quote_name
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    return f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} = {key}"


def converted(row: Sequence, fields: tuple[Field, ...], database: BaseDatabaseWrapper) -> list:
    """A raw row of `fields`' columns (plain SQL's), converted as the ORM converts it; the
    values past `fields` are left as they are."""
    values = list(row)
    for index, convert, column in column_converters(fields, database):
        values[index] = convert(values[index], column, database)
    return values


def instance_from_row(model: type[Model], row: Sequence, database: BaseDatabaseWrapper) -> Model:
    """The `model` instance of a raw row of its concrete columns (`_meta.concrete_fields`' order)."""
    fields = tuple(model._meta.concrete_fields)
    return model.from_db(
        database.alias, [field.attname for field in fields], converted(row, fields, database)
    )


def insert_statement(instance: Model, database: BaseDatabaseWrapper) -> tuple[str, list]:
    """The `INSERT` of a new `instance` (SQL with `%s` parameters, and the parameters), its
    values as `save(force_insert=True)` writes them: each field's `pre_save` (which sets
    `auto_now_add`), prepared for the database. For a caller that sends it together with
    another statement; `inserted` then marks the instance saved. No signal is sent."""
    meta = instance._meta
    fields = meta.concrete_fields
    quote = database.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = [field.get_db_prep_save(field.pre_save(instance, add=True), database) for field in fields]
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})", values


def update_statement(
    instance: Model, field_names: list[str], database: BaseDatabaseWrapper
) -> tuple[str, list]:
    """The `UPDATE` of `field_names` of a saved `instance`, by its primary key (SQL with `%s`
    parameters, and the parameters), its values as `save(update_fields=...)` writes them. For a
    caller that sends it together with another statement. No signal is sent."""
    meta = instance._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = database.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    values = [field.get_db_prep_save(field.pre_save(instance, add=False), database) for field in fields]
    key = meta.pk.get_db_prep_value(instance.pk, database)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s", [
        *values,
        key,
    ]


def inserted(instance: Model, database: BaseDatabaseWrapper) -> None:
    """Mark `instance` as a saved row of `database`, as `save` would have."""
    instance._state.adding = False
    instance._state.db = database.alias


def index_probes_only(connection) -> None:
    """For the rest of the caller's transaction on PostgreSQL: plans read indexes only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(set_local_sql(INDEX_PROBES_ONLY))


@contextmanager
def lock_wait_limited(connection, *, seconds: float) -> Iterator[None]:
    """Around a transaction: its locks wait at most `seconds`, then fail with an error
    `is_lock_timeout` recognises (pretix's locking does the same: a bounded wait, then an
    error the caller can retry).

    On PostgreSQL the limit is `SET LOCAL lock_timeout` (`lock_timeout`), sent with
    the transaction's first statement. On SQLite it is the connection's busy
    timeout, which must be set before `BEGIN IMMEDIATE` takes the write lock: this sets
    it for the block and puts the configured one back after (the connection's
    `timeout` option, which is what sqlite3 gave it: one statement less than reading it).
    """
    if connection.vendor != "sqlite":
        yield
        return
    configured = connection.settings_dict.get("OPTIONS", {}).get("timeout", SQLITE_DEFAULT_TIMEOUT)
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(configured * 1000)}")


def lock_timeout(*, seconds: float) -> dict[str, str]:
    """The PostgreSQL setting under which a lock waits at most `seconds`, for
    `execute_with_local_settings(..., lasting=True)` as the transaction's first statement."""
    return {"lock_timeout": f"'{max(1, int(seconds * 1000))}ms'"}


def is_lock_timeout(error: OperationalError) -> bool:
    """The error a lock wait limited by `lock_wait_limited` ends with (PostgreSQL 55P03, SQLite "locked")."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == "55P03":  # lock_not_available
        return True
    return "database is locked" in str(error)


def is_unique_violation(error: IntegrityError) -> bool:
    """A unique constraint or index refused the row (PostgreSQL 23505, SQLite "UNIQUE constraint failed"),
    not another refusal (a check, a foreign key, a trigger's)."""
    if getattr(error.__cause__, "sqlstate", None) == "23505":  # unique_violation
        return True
    return str(error).startswith("UNIQUE constraint failed")


class AnyOf(Lookup):
    """`column = ANY(%s)`, the values sent as one array (PostgreSQL).

    The same test as `__in`, but 5,000 ids are one parameter instead of 5,000
    placeholders for Django and psycopg to build, parse and quote: a third of the
    cost of each cleanup batch's statements, measured.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.lhs)
        return f"{column} = ANY(%s)", [*params, list(self.rhs)]


def one_of(column: str, values: Collection, *, vendor: str) -> Q | AnyOf:
    """`column` is one of `values`: one array parameter on PostgreSQL, `IN (...)` elsewhere."""
    if vendor == "postgresql":
        return AnyOf(F(column), values)
    return Q(**{f"{column}__in": values})
