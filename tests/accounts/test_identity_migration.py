"""Migration accounts/0001 refuses, by name, the case variants that would break its unique indexes."""

import pytest
from django.contrib.auth import get_user_model

from tests.support.migrations import migrate, migrated_to

MIGRATION = ("accounts", "0001_case_insensitive_username_and_email")
BEFORE = ("accounts", None)

pytestmark = pytest.mark.django_db(transaction=True)


def test_existing_case_variants_stop_the_migration_and_are_named():
    User = get_user_model()
    with migrated_to(BEFORE):
        try:
            User.objects.create_user(username="Grace", email="grace@example.com")
            User.objects.create_user(username="GRACE", email="hopper@example.com")

            with pytest.raises(RuntimeError, match="'grace'"):
                migrate(MIGRATION)
        finally:
            User.objects.all().delete()  # they would stop the way back too


def test_accounts_without_an_email_do_not_count_as_variants():
    User = get_user_model()
    with migrated_to(BEFORE):
        User.objects.create_user(username="first", email="")
        User.objects.create_user(username="second", email="")

    assert User.objects.filter(email="").count() == 2
