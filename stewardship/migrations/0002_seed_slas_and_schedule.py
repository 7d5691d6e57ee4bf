"""Default SLAs per task kind, and the beat schedule of the queue sweep (both editable in the admin)."""

from django.db import migrations

from hub.schedules import interval_task

SLAS = {"potential_match": (72, 3), "data_quality": (120, 3), "business_exception": (48, 2), "sync_failure": (8, 2)}


def seed(apps, schema_editor):
    TaskSLA = apps.get_model("stewardship", "TaskSLA")
    for kind, (hours, priority) in SLAS.items():
        TaskSLA.objects.get_or_create(kind=kind, defaults={"hours": hours, "default_priority": priority})


class Migration(migrations.Migration):
    dependencies = [("stewardship", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        interval_task("Sweep the steward queues", "stewardship.tasks.steward_queues_sweep_task", 60),
    ]
