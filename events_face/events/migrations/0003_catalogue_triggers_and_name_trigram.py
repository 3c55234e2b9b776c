"""Database-side pieces the ORM does not declare.

- Catalogue triggers: every INSERT, UPDATE or DELETE on events_event or
  events_venue bumps events_catalogueversion.version in the same transaction,
  whoever writes (sync, cleanup, admin, raw SQL). PostgreSQL bumps once per
  statement that changed at least one row; SQLite, which has only row
  triggers, once per row.
- PostgreSQL only: a trigram index for the list's `name` search
  (`UPPER(name) LIKE UPPER('%term%')`, what `icontains` compiles to). SQLite
  has no such index; there the search filters rows in list order.
"""

from django.db import migrations

BUMP = (
    "INSERT INTO events_catalogueversion (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = events_catalogueversion.version + 1"
)
TABLES = ("events_event", "events_venue")
OPERATIONS = {"insert": ("INSERT", "NEW"), "update": ("UPDATE", "NEW"), "delete": ("DELETE", "OLD")}

POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION events_catalogue_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_rows) THEN
        {BUMP};
    END IF;
    RETURN NULL;
END
$$;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = []
    if vendor == "postgresql":
        statements.append(POSTGRESQL_FUNCTION)
        for table in TABLES:
            for name, (operation, rows) in OPERATIONS.items():
                # Transition tables allow one operation per trigger, hence three.
                statements.append(
                    f"CREATE TRIGGER {table}_catalogue_{name} AFTER {operation} ON {table} "
                    f"REFERENCING {rows} TABLE AS changed_rows "
                    "FOR EACH STATEMENT EXECUTE FUNCTION events_catalogue_bump()"
                )
        statements.append("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        statements.append(
            "CREATE INDEX event_name_trgm_idx ON events_event USING gin (UPPER(name::text) gin_trgm_ops)"
        )
    elif vendor == "sqlite":
        for table in TABLES:
            for name, (operation, _rows) in OPERATIONS.items():
                statements.append(
                    f"CREATE TRIGGER {table}_catalogue_{name} AFTER {operation} ON {table} "
                    f"BEGIN {BUMP}; END"
                )
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        for name in OPERATIONS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_catalogue_{name}" + (f" ON {table}" if vendor == "postgresql" else ""))
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS events_catalogue_bump()")
        schema_editor.execute("DROP INDEX IF EXISTS event_name_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("events", "0002_catalogue_version_and_list_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
