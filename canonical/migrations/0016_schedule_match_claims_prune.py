"""Schedule the daily pruning of match-key claims no page holds (editable in the admin)."""

from django.db import migrations

from hub.schedules import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("canonical", "0015_match_claims"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [interval_task("Prune match-key claims", "canonical.tasks.match_claims_prune_task", 86_400)]
