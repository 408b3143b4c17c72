"""Schedule the expiry of stale authorizations hourly (operators may change it in the admin)."""

from django.db import migrations

TASK_NAME = "Cancel expired authorizations"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "payments.tasks.expire_authorizations_task",
            "interval": hourly,
            "queue": "payments",
            "description": "Cancels authorizations older than AUTHORIZATION_TTL_DAYS (reason: expired).",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(schedule, unschedule)]
