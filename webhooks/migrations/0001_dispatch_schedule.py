"""Run the webhook dispatcher every 5 seconds (operators may change it in the admin)."""

from django.db import migrations

TASK_NAME = "Send due webhook deliveries (dispatcher)"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_seconds, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "webhooks.tasks.dispatch_webhooks_task",
            "interval": every_5_seconds,
            "queue": "webhooks",
            # A tick that waited longer than its interval is superseded by the next.
            "expire_seconds": 5,
            "description": "Sends webhook deliveries whose next attempt is due, and any whose publish was lost.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(schedule, unschedule)]
