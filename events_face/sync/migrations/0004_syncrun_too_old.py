"""Runs count the records they did not import because their events are past the cleanup
horizon (CLEANUP_AFTER_DAYS): `cleanup_events` would delete them again."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sync", "0003_skipped_records")]

    operations = [
        migrations.AddField(
            model_name="syncrun", name="too_old", field=models.PositiveIntegerField(default=0)
        ),
    ]
