"""Event.calendar_sequence: the iCalendar SEQUENCE of the event's entry (calendars/ics.py).

On SQLite, adding a NOT NULL column rebuilds the table (create, copy, drop,
rename), and the rebuild drops the table's triggers: the catalogue triggers of
0003 are made again afterwards, or no write to events would bump the catalogue
version and cached pages would outlive their data. On PostgreSQL the column is
added in place (a default that is a constant rewrites no rows).
"""

from importlib import import_module

from django.db import migrations, models

catalogue_triggers = import_module("events_face.events.migrations.0003_catalogue_triggers_and_name_trigram")


def sqlite_event_triggers_restore(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, (operation, _rows) in catalogue_triggers.OPERATIONS.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS events_event_catalogue_{name}")
        schema_editor.execute(
            f"CREATE TRIGGER events_event_catalogue_{name} AFTER {operation} ON events_event "
            f"BEGIN {catalogue_triggers.BUMP}; END"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_registration_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="calendar_sequence",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(sqlite_event_triggers_restore, sqlite_event_triggers_restore),
    ]
