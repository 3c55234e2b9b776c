"""events_seatcount: each event's confirmed registrations, kept by triggers on events_registration.

Registering, and promoting from the waiting list, read the event's seats taken
under its lock; counting the confirmed rows grew with them (about half a
millisecond per thousand on PostgreSQL), and so did the list's `seats_left`.
The count is now kept, by the database, in the transaction that changes it:

- a registration inserted confirmed adds one (an upsert: the row is made on the
  first);
- one deleted while confirmed takes one away, and the row goes when it reaches
  0, so a cleanup that deletes an event's registrations and then the event
  leaves no row behind;
- an UPDATE that changes the status or the event moves the seat accordingly.

Whoever writes: the API, `bulk_create`, the admin, the cleanup's raw DELETEs.
The existing rows are counted once, here.

On SQLite, a later migration that rebuilds events_registration (create, copy,
drop, rename: most column changes there) drops these triggers with the old
table: it must call `seat_triggers_create` again afterwards, as 0005 does for
the catalogue triggers. tests/events/test_seat_count.py fails if they are missing.
"""

from django.db import migrations, models

CONFIRMED = "'confirmed'"

# Both databases: a seat taken, a seat freed (the row goes at 0).
TAKE = (
    "INSERT INTO events_seatcount (event_id, confirmed) VALUES (NEW.event_id, 1) "
    "ON CONFLICT (event_id) DO UPDATE SET confirmed = events_seatcount.confirmed + 1"
)
FREE = (
    "UPDATE events_seatcount SET confirmed = confirmed - 1 WHERE event_id = OLD.event_id; "
    "DELETE FROM events_seatcount WHERE event_id = OLD.event_id AND confirmed = 0"
)
MOVED = (
    "(OLD.status = 'confirmed' OR NEW.status = 'confirmed') "
    "AND (OLD.status IS NOT NEW.status OR OLD.event_id IS NOT NEW.event_id)"
)

POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION events_seats_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = {CONFIRMED} THEN
        {FREE};
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = {CONFIRMED} THEN
        {TAKE};
    END IF;
    RETURN NULL;
END
$$;
"""

TRIGGERS = ("insert", "update", "delete")

COUNT_EXISTING = (
    "INSERT INTO events_seatcount (event_id, confirmed) "
    f"SELECT event_id, COUNT(*) FROM events_registration WHERE status = {CONFIRMED} GROUP BY event_id"
)


def seat_triggers_create(schema_editor) -> None:
    """The three triggers (made again if there), for the connection's database."""
    vendor = schema_editor.connection.vendor
    seat_triggers_drop(schema_editor)
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FUNCTION)
        conditions = {
            "insert": ("INSERT", f"NEW.status = {CONFIRMED}"),
            "update": ("UPDATE OF status, event_id", MOVED.replace(" IS NOT ", " IS DISTINCT FROM ")),
            "delete": ("DELETE", f"OLD.status = {CONFIRMED}"),
        }
        for name, (operation, condition) in conditions.items():
            schema_editor.execute(
                f"CREATE TRIGGER events_registration_seats_{name} AFTER {operation} ON events_registration "
                f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION events_seats_count()"
            )
    elif vendor == "sqlite":
        # SQLite's triggers run statements only: each half of a move applies where its side is confirmed.
        move = (
            f"UPDATE events_seatcount SET confirmed = confirmed - 1 "
            f"WHERE event_id = OLD.event_id AND OLD.status = {CONFIRMED}; "
            "DELETE FROM events_seatcount WHERE event_id = OLD.event_id AND confirmed = 0; "
            f"{TAKE.replace('VALUES (NEW.event_id, 1)', f'SELECT NEW.event_id, 1 WHERE NEW.status = {CONFIRMED}')};"
        )
        bodies = {
            "insert": ("INSERT", f"NEW.status = {CONFIRMED}", f"{TAKE};"),
            "update": ("UPDATE OF status, event_id", MOVED, move),
            "delete": ("DELETE", f"OLD.status = {CONFIRMED}", f"{FREE};"),
        }
        for name, (operation, condition, body) in bodies.items():
            schema_editor.execute(
                f"CREATE TRIGGER events_registration_seats_{name} AFTER {operation} ON events_registration "
                f"FOR EACH ROW WHEN {condition} BEGIN {body} END"
            )


def seat_triggers_drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for name in TRIGGERS:
        on_table = " ON events_registration" if vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS events_registration_seats_{name}{on_table}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS events_seats_count()")


def forwards(apps, schema_editor):
    seat_triggers_create(schema_editor)
    schema_editor.execute(COUNT_EXISTING)


def backwards(apps, schema_editor):
    seat_triggers_drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0015_check_in_verbose_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="SeatCount",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="events.event",
                    ),
                ),
                ("confirmed", models.PositiveIntegerField(default=0)),
            ],
            options={
                "verbose_name": "seat count",
                "verbose_name_plural": "seat counts",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
