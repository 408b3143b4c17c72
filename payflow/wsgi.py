import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")

application = get_wsgi_application()

# Each gunicorn worker makes its DynamoDB clients before it serves a request.
from payflow.aws.dynamodb import clients_warm  # noqa: E402

clients_warm()
