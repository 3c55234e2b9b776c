"""Moving the test database to a migration and back, for the tests of data migrations.

A data migration's test writes rows as the schema before it held them, through the
models as they were there (historical models: `migrate` returns them), never
today's, whose columns the old tables may lack. `migrated_to` puts every app back
at its latest migration when the test's block ends, passed or failed: a table that
moving back dropped (another app's migration that depended on the old one) is made
again, and no later test meets an old schema.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.graph import MigrationGraph

# (app label, migration name); a name of None: before the app's first migration.
Target = tuple[str, str | None]


def migration_graph() -> MigrationGraph:
    """Every migration and its dependencies, as on disk."""
    return MigrationExecutor(connection).loader.graph


def migration_latest(app_label: str) -> Target:
    """The app's last migration: the schema its models expect."""
    (leaf,) = migration_graph().leaf_nodes(app_label)
    return leaf


def migrate(target: Target) -> Apps:
    """Migrate the database to `target`; the models as they were there (`apps.get_model`)."""
    # A new executor: its loader reads what is applied now, after any earlier move.
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state(_state_nodes(executor.loader.graph, target)).apps


def _state_nodes(graph: MigrationGraph, target: Target) -> list[Target]:
    app_label, name = target
    if name is not None:
        return [target]
    # Before the app's first migration: the state that migration starts from.
    (first,) = graph.root_nodes(app_label)
    return [parent.key for parent in graph.node_map[first].parents]


def migrate_to_latest() -> None:
    """Every app at its last migration, as `manage.py migrate` leaves them."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@contextmanager
def migrated_to(target: Target) -> Iterator[Apps]:
    """The database at `target` inside the block (its historical models given), at the latest after it."""
    try:
        yield migrate(target)
    finally:
        migrate_to_latest()
