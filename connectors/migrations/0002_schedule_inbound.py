"""Schedule the inbound pulls in django-celery-beat (editable in the admin)."""

from django.db import migrations

from hub.schedules import interval_task


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [interval_task("Pull inbound streams", "connectors.tasks.inbound_schedule_task", 60)]
