"""How much a statement read, counted rather than timed: PostgreSQL's per-transaction counters."""

from django.db import connection


def postgresql_rows_read(read, *, tables: tuple[str, ...]) -> int:
    """Table rows and index entries of `tables` that calling `read` returned (this transaction's counters)."""
    names = ", ".join(f"'{table}'::regclass" for table in tables)

    def rows_read() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT SUM(pg_stat_get_xact_tuples_returned(oid)) FROM pg_class WHERE oid IN ({names}) "
                f"OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN ({names}))"
            )
            return int(cursor.fetchone()[0] or 0)

    before = rows_read()
    read()
    return rows_read() - before
