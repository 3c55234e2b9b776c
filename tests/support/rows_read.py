"""How much work the database did for a read, counted rather than timed: PostgreSQL's
per-transaction counters of rows read, SQLite's virtual machine steps."""

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


def sqlite_steps(read) -> int:
    """Hundreds of SQLite virtual machine instructions that calling `read` ran."""
    connection.ensure_connection()
    steps = []
    connection.connection.set_progress_handler(lambda: steps.append(1) and 0, 100)
    try:
        read()
    finally:
        connection.connection.set_progress_handler(None, 0)
    return len(steps)


def database_work(read, *, tables: tuple[str, ...]) -> int:
    """`sqlite_steps` or `postgresql_rows_read` (of `tables`), whichever database this is."""
    if connection.vendor == "sqlite":
        return sqlite_steps(read)
    return postgresql_rows_read(read, tables=tables)
