"""Schedule the change-feed sequencer in django-celery-beat (editable in the admin)."""

from django.db import migrations

from hub.schedules import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("canonical", "0003_revenue_event_immutable"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [interval_task("Sequence the change feed", "canonical.tasks.change_events_sequence_task", 5)]
