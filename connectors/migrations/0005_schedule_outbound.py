"""Schedule the outbound relay and deliveries in django-celery-beat (editable in the admin)."""

from django.db import migrations

from hub.schedules import interval_task


class Migration(migrations.Migration):
    dependencies = [("connectors", "0004_outbound"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [interval_task("Relay and deliver outbound changes", "connectors.tasks.outbound_relay_task", 10)]
