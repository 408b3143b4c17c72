"""Settle the previous UTC day at 02:00 UTC (operators may change it in the admin)."""

from django.db import migrations

TASK_NAME = "T+1 settlement of the previous UTC day"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    two_am, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "payments.tasks.settle_previous_day_task",
            "crontab": two_am,
            "queue": "settlement",
            "description": "Settles every captured payment and completed refund of the previous UTC day.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_expire_authorizations_schedule")]

    operations = [migrations.RunPython(schedule, unschedule)]
