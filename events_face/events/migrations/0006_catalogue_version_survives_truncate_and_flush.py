"""The catalogue version never goes back, whatever empties the tables.

Migration 0003's triggers bump the version on INSERT, UPDATE and DELETE, but a
TRUNCATE fires none of them: after `TRUNCATE events_event, events_venue CASCADE`
cached pages kept serving the deleted events, and 304s answered their ETags. And
`manage.py flush` empties events_catalogueversion too (TRUNCATE of every table on
PostgreSQL, DELETE FROM each on SQLite), so the version restarted from 0 and
came back, write by write, to keys still in the cache, with other content.

- PostgreSQL: a statement-level AFTER TRUNCATE trigger on events_event,
  events_venue and events_catalogueversion sets the version to at least
  `nextval(events_catalogue_truncations) << 32`. The sequence belongs to no
  column, so neither TRUNCATE ... RESTART IDENTITY nor flush resets it: each
  truncation starts a range above every version used before (as long as fewer
  than 2**32 writes come between two truncations). A row trigger also ignores a
  DELETE of the version row.
- SQLite has no TRUNCATE (flush runs DELETE FROM each table, which fires the row
  triggers of 0003); a BEFORE DELETE trigger ignores a DELETE of the version
  row, so flush cannot reset it.
"""

from django.db import migrations

TABLES = ("events_event", "events_venue", "events_catalogueversion")
SEQUENCE = "events_catalogue_truncations"

POSTGRESQL_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION events_catalogue_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    version_floor bigint := nextval('{SEQUENCE}') << 32;
BEGIN
    INSERT INTO events_catalogueversion (id, version) VALUES (1, version_floor)
    ON CONFLICT (id) DO UPDATE SET version = GREATEST(events_catalogueversion.version + 1, version_floor);
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION events_catalogue_version_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END
$$;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = []
    if vendor == "postgresql":
        statements.append(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} AS bigint MAXVALUE 2147483647")
        statements.append(POSTGRESQL_FUNCTIONS)
        for table in TABLES:
            statements.append(
                f"CREATE TRIGGER {table}_catalogue_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION events_catalogue_truncated()"
            )
        statements.append(
            "CREATE TRIGGER events_catalogueversion_kept BEFORE DELETE ON events_catalogueversion "
            "FOR EACH ROW EXECUTE FUNCTION events_catalogue_version_kept()"
        )
    elif vendor == "sqlite":
        statements.append(
            "CREATE TRIGGER events_catalogueversion_kept BEFORE DELETE ON events_catalogueversion "
            "BEGIN SELECT RAISE(IGNORE); END"
        )
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_catalogue_truncate ON {table}")
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS events_catalogueversion_kept ON events_catalogueversion"
        )
        schema_editor.execute("DROP FUNCTION IF EXISTS events_catalogue_truncated()")
        schema_editor.execute("DROP FUNCTION IF EXISTS events_catalogue_version_kept()")
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS events_catalogueversion_kept")


class Migration(migrations.Migration):
    dependencies = [("events", "0005_event_calendar_sequence")]

    operations = [migrations.RunPython(forwards, backwards)]
