"""Writing the catalogue behind the response cache's back, to see who served a page."""

from django.db import connection, transaction


def catalogue_write_unversioned(sql: str, params: list) -> None:
    """Run `sql` (a write to events_event) without bumping the catalogue version.

    Every real write bumps it (migration events/0003), so a page rendered
    before this one and served after it can only have come from a cache: the
    database now says otherwise. PostgreSQL: triggers are off for the
    transaction (replica role, superuser). SQLite: the update trigger is
    dropped and put back in the same transaction.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            return
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_event_catalogue_update'"
        )
        (trigger,) = cursor.fetchone()
        cursor.execute("DROP TRIGGER events_event_catalogue_update")
        cursor.execute(sql, params)
        cursor.execute(trigger)
