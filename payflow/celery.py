import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")

app = Celery("payflow")
# Every CELERY_* Django setting configures the app; the broker URL and its
# transport options are derived from the AWS settings (settings/base.py).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
