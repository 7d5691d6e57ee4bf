"""Beat schedules shipped with the hub, created by data migrations (and then editable in the admin)."""

from django.db import migrations


def interval_task(name: str, task: str, every_seconds: int) -> migrations.RunPython:
    """A migration operation that schedules ``task`` every ``every_seconds`` in django-celery-beat."""

    def schedule(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        every, _ = IntervalSchedule.objects.get_or_create(every=every_seconds, period="seconds")
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "interval": every, "enabled": True})

    def unschedule(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=task).delete()

    return migrations.RunPython(schedule, unschedule)
