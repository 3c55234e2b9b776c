"""Real database failures for tests: a trigger that makes a statement fail, on PostgreSQL and SQLite.

A failure the database itself raises (not a mock) shows what a transaction keeps
and what it rolls back. The trigger is DDL: inside a test's transaction it goes
with the rollback; a transactional test removes it with `fault_trigger_remove`.
"""

import uuid

from django.db import connection


def fault_trigger_install(
    name: str, *, table: str, operation: str, message: str, row_id: uuid.UUID | None = None
) -> None:
    """Make each `operation` (INSERT, UPDATE or DELETE) on `table` fail with `message`; with `row_id`,
    only that of the row whose UUID primary key `id` it is (UPDATE, DELETE: the row as it was)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            when = f"WHEN (OLD.id = '{row_id}') " if row_id else ""
            cursor.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                f"AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                f"{when}EXECUTE FUNCTION {name}()"
            )
        else:
            when = f"WHEN OLD.id = '{row_id.hex}' " if row_id else ""  # Django stores UUIDs as hex there
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} {when}"
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def fault_trigger_remove(name: str, *, table: str) -> None:
    """Remove what `fault_trigger_install` made under `name` (nothing there: no error)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
