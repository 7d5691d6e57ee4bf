"""BulkAction.actor becomes ``user``: every history row already has an ``actor`` (a name) of its own."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("stewardship", "0004_seed_exception_rules_and_schedule")]
    operations = [
        migrations.RenameField("bulkaction", "actor", "user"),
        migrations.RenameField("historicalbulkaction", "actor", "user"),
        migrations.AddField("historicalbulkaction", "actor",
                            models.CharField(blank=True, default="", max_length=150)),
    ]
