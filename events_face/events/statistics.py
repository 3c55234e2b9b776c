"""The planner's statistics of the catalogue tables (PostgreSQL), refreshed after a sync changed them."""

from django.db import connection

from events_face.events.models import Event, Venue


def catalogue_statistics_refresh() -> None:
    """Refresh the planner's statistics of the catalogue tables, after a sync changed them.

    PostgreSQL only. Its planner needs them to prefer the list's ordered index
    ranges over sorting every matching row of a small, freshly loaded table,
    and to use the trigram index for the `name` search; autovacuum gathers them
    too, but only a while after a bulk load. The SQLite plans need none (see
    `selectors`), and statistics could only make them less predictable.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Event._meta.db_table}, {Venue._meta.db_table}")
