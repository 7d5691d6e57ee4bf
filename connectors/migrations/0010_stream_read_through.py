"""Stream.read_through_at: when a pull last read every page of the stream (deliveries into the platform wait for
it, not for the pull's end). A stream that has finished a pull has been read through."""

from django.db import migrations, models
from django.db.models import F


def read_through(apps, schema_editor):
    Stream = apps.get_model("connectors", "Stream")
    Stream.objects.filter(last_success_at__isnull=False).update(read_through_at=F("last_success_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('connectors', '0009_delivery_due'),
    ]

    operations = [
        migrations.AddField(
            model_name='stream',
            name='read_through_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(read_through, migrations.RunPython.noop),
    ]
