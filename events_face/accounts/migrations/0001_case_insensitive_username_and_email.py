"""Unique indexes on auth_user: LOWER(username), and LOWER(email) where an e-mail is given.

They make "one account per username or e-mail address, in any case" a
database rule (see accounts/services.py), which decides between simultaneous
sign-ups. The same SQL works on SQLite and PostgreSQL. An installation that
already holds case variants cannot take the index: the migration stops and
names them, so an operator can rename or merge those accounts first.
"""

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower


def refuse_existing_case_variants(apps, schema_editor):
    User = apps.get_model("auth", "User")
    for field in ("username", "email"):
        duplicates = list(
            User.objects.exclude(**{field: ""})
            .values(lowered=Lower(field))
            .annotate(accounts=Count("id"))
            .filter(accounts__gt=1)
            .values_list("lowered", flat=True)[:20]
        )
        if duplicates:
            raise RuntimeError(
                f"Cannot make auth_user.{field} unique in any case: several accounts share "
                f"{', '.join(repr(value) for value in duplicates)} (ignoring case). "
                "Rename or merge them, then migrate again."
            )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(refuse_existing_case_variants, migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE UNIQUE INDEX accounts_user_username_lower_uniq ON auth_user (LOWER(username))",
            "DROP INDEX accounts_user_username_lower_uniq",
        ),
        migrations.RunSQL(
            "CREATE UNIQUE INDEX accounts_user_email_lower_uniq ON auth_user (LOWER(email)) WHERE email <> ''",
            "DROP INDEX accounts_user_email_lower_uniq",
        ),
    ]
