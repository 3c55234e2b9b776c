"""events_seatcount: each event's confirmed and waitlisted registrations, kept by triggers on events_registration.

Registering read the event's seats taken under its lock, and joining the waiting
list read the queue's length; counting the rows grew with them (about half a
millisecond per thousand on PostgreSQL), and so did the list's `seats_left`. The
counts are now kept, by the database, in the transaction that changes them:

- a registration inserted confirmed or waitlisted adds one to its status's
  count (an upsert: the row is made on the first);
- one deleted takes its one away, and the row goes when both counts reach 0,
  so a cleanup that deletes an event's registrations and then the event leaves
  no row behind;
- an UPDATE that changes the status or the event moves the one accordingly.

Whoever writes: the API, `bulk_create`, the admin, the cleanup's raw DELETEs;
a TRUNCATE of the registrations (PostgreSQL) empties the counts. The existing
rows are counted once, here.

On SQLite, a later migration that rebuilds events_registration (create, copy,
drop, rename: most column changes there) drops these triggers with the old
table: it must call `seat_triggers_create` again afterwards, as 0005 does for
the catalogue triggers. tests/events/test_seat_count.py fails if they are missing.
"""

from django.db import migrations, models

HELD = "('confirmed', 'waitlisted')"  # the statuses counted, each in its column


def _ones(row: str) -> str:
    """`row`'s (NEW or OLD) contribution to (confirmed, waitlisted): a 1 in its status's column."""
    return (
        f"CASE WHEN {row}.status = 'confirmed' THEN 1 ELSE 0 END, "
        f"CASE WHEN {row}.status = 'waitlisted' THEN 1 ELSE 0 END"
    )


# The same three statements on both databases. The old row's place is given back (the
# row goes when both counts reach 0), then the new row's is taken (an upsert: the row is
# made on the first); a row of another status adds 0 to both.
FREE = (
    "UPDATE events_seatcount SET "
    "confirmed = confirmed - CASE WHEN OLD.status = 'confirmed' THEN 1 ELSE 0 END, "
    "waitlisted = waitlisted - CASE WHEN OLD.status = 'waitlisted' THEN 1 ELSE 0 END "
    "WHERE event_id = OLD.event_id; "
    "DELETE FROM events_seatcount WHERE event_id = OLD.event_id AND confirmed = 0 AND waitlisted = 0"
)
TAKE = (
    f"INSERT INTO events_seatcount (event_id, confirmed, waitlisted) SELECT NEW.event_id, {_ones('NEW')} "
    f"WHERE NEW.status IN {HELD} ON CONFLICT (event_id) DO UPDATE SET "
    "confirmed = events_seatcount.confirmed + excluded.confirmed, "
    "waitlisted = events_seatcount.waitlisted + excluded.waitlisted"
)
CONDITIONS = {
    "insert": ("INSERT", f"NEW.status IN {HELD}"),
    "update": (
        "UPDATE OF status, event_id",
        f"(OLD.status IN {HELD} OR NEW.status IN {HELD}) "
        "AND (OLD.status <> NEW.status OR OLD.event_id <> NEW.event_id)",
    ),
    "delete": ("DELETE", f"OLD.status IN {HELD}"),
}

POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION events_seats_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status IN {HELD} THEN
        {FREE};
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status IN {HELD} THEN
        {TAKE};
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION events_seats_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events_seatcount;
    RETURN NULL;
END
$$;
"""

TRIGGERS = tuple(CONDITIONS)

COUNT_EXISTING = (
    "INSERT INTO events_seatcount (event_id, confirmed, waitlisted) "
    "SELECT event_id, SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN status = 'waitlisted' THEN 1 ELSE 0 END) "
    f"FROM events_registration WHERE status IN {HELD} GROUP BY event_id"
)


def seat_triggers_create(schema_editor) -> None:
    """The three triggers (made again if there), for the connection's database."""
    vendor = schema_editor.connection.vendor
    seat_triggers_drop(schema_editor)
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FUNCTION)
    for name, (operation, condition) in CONDITIONS.items():
        if vendor == "postgresql":
            action = "EXECUTE FUNCTION events_seats_count()"
        else:  # SQLite's triggers run statements only
            body = {"insert": TAKE, "update": f"{FREE}; {TAKE}", "delete": FREE}[name]
            action = f"BEGIN {body}; END"
        schema_editor.execute(
            f"CREATE TRIGGER events_registration_seats_{name} AFTER {operation} ON events_registration "
            f"FOR EACH ROW WHEN ({condition}) {action}"
        )
    if vendor == "postgresql":
        # A TRUNCATE fires no row trigger: emptying the registrations empties the counts.
        schema_editor.execute(
            "CREATE TRIGGER events_registration_seats_truncate AFTER TRUNCATE ON events_registration "
            "FOR EACH STATEMENT EXECUTE FUNCTION events_seats_truncated()"
        )


def seat_triggers_drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for name in TRIGGERS:
        on_table = " ON events_registration" if vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS events_registration_seats_{name}{on_table}")
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS events_registration_seats_truncate ON events_registration")
        schema_editor.execute("DROP FUNCTION IF EXISTS events_seats_count()")
        schema_editor.execute("DROP FUNCTION IF EXISTS events_seats_truncated()")


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
                ("waitlisted", models.PositiveIntegerField(default=0)),
            ],
            options={
                "verbose_name": "seat count",
                "verbose_name_plural": "seat counts",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
