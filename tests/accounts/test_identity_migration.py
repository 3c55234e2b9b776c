"""Migration accounts/0001 refuses, by name, the case variants that would break its unique indexes."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

MIGRATION = ("accounts", "0001_case_insensitive_username_and_email")

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def test_existing_case_variants_stop_the_migration_and_are_named():
    User = get_user_model()
    migrate(("accounts", None))
    try:
        User.objects.create_user(username="Grace", email="grace@example.com")
        User.objects.create_user(username="GRACE", email="hopper@example.com")

        with pytest.raises(RuntimeError, match="'grace'"):
            migrate(MIGRATION)
    finally:
        User.objects.all().delete()
        migrate(MIGRATION)


def test_accounts_without_an_email_do_not_count_as_variants():
    User = get_user_model()
    migrate(("accounts", None))
    try:
        User.objects.create_user(username="first", email="")
        User.objects.create_user(username="second", email="")
    finally:
        migrate(MIGRATION)

    assert User.objects.filter(email="").count() == 2
