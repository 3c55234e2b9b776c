"""Venues remember the provider `changed_at` that last set their fields, so an older record cannot
rewrite them (sync/upsert.py). Nullable: venues synced before take the next record's fields."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("events", "0006_catalogue_version_survives_truncate_and_flush")]

    operations = [
        migrations.AddField(
            model_name="venue",
            name="provider_changed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="`changed_at` of the provider record that last set the name and extra fields "
                "(empty for venues synced before it was kept); only a newer record changes them.",
                null=True,
            ),
        ),
    ]
