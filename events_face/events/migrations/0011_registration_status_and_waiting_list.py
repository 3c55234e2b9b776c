"""Registrations get a status (confirmed, waitlisted, cancelled) and the moments it changed.

Safe on a large table on PostgreSQL (docs/deployment.md, "Registration
statuses"): nothing rewrites or scans the table while holding a lock that
blocks registrations.

- The three columns are added with a database default (`status` = confirmed) or
  none (the two moments): PostgreSQL 11 and later store the default in the
  catalogue, so existing rows become confirmed without being rewritten.
- The indexes are built with CREATE INDEX CONCURRENTLY (writes go on while
  they build), so the migration is not atomic: each statement commits on its
  own, and a run cut short is simply run again (IF NOT EXISTS, IF EXISTS).
- The new unique index (event, lower(email)) among active registrations is
  built before the old one over every row is dropped, so uniqueness holds
  throughout; every existing row is confirmed, so it builds.

SQLite runs the same statements without CONCURRENTLY.
"""

import django.db.models.functions.text
from django.db import migrations, models

ACTIVE = "status IN ('confirmed', 'waitlisted')"

STATEMENTS = [
    (
        "CREATE INDEX {concurrently} IF NOT EXISTS registration_event_status_idx "
        "ON events_registration (event_id, status, created_at, id)"
    ),
    (
        "CREATE UNIQUE INDEX {concurrently} IF NOT EXISTS registration_unique_active_event_email_ci "
        f"ON events_registration (event_id, (LOWER(email))) WHERE {ACTIVE}"
    ),
    "DROP INDEX {concurrently} IF EXISTS registration_unique_event_email_ci",
]

REVERSE_STATEMENTS = [
    (
        "CREATE UNIQUE INDEX {concurrently} IF NOT EXISTS registration_unique_event_email_ci "
        "ON events_registration (event_id, (LOWER(email)))"
    ),
    "DROP INDEX {concurrently} IF EXISTS registration_unique_active_event_email_ci",
    "DROP INDEX {concurrently} IF EXISTS registration_event_status_idx",
]


def _run(statements, schema_editor):
    concurrently = "CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for statement in statements:
        schema_editor.execute(statement.format(concurrently=concurrently))


def forwards(apps, schema_editor):
    _run(STATEMENTS, schema_editor)


def backwards(apps, schema_editor):
    # Fails, as it should, while a person has a cancelled and an active registration for one event.
    _run(REVERSE_STATEMENTS, schema_editor)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("events", "0010_verbose_names_in_the_browser_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="status",
            field=models.CharField(
                choices=[("confirmed", "Confirmed"), ("waitlisted", "Waitlisted"), ("cancelled", "Cancelled")],
                db_default="confirmed",
                default="confirmed",
                editable=False,
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="registration",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="registration",
            name="confirmation_code",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AddIndex(
                    model_name="registration",
                    index=models.Index(
                        fields=["event", "status", "created_at", "id"], name="registration_event_status_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="registration",
                    constraint=models.UniqueConstraint(
                        models.F("event"),
                        django.db.models.functions.text.Lower("email"),
                        condition=models.Q(("status__in", ["confirmed", "waitlisted"])),
                        name="registration_unique_active_event_email_ci",
                    ),
                ),
                migrations.RemoveConstraint(
                    model_name="registration",
                    name="registration_unique_event_email_ci",
                ),
            ],
        ),
    ]
