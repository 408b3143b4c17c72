"""The registry of PynamoDB tables.

Apps declare models in their ``tables.py`` and decorate them with
``@table("short-name")``. The real table name is
``payflow-<PAYFLOW_ENV>-<short-name>``; endpoint, region and credentials come
from settings, so the same models talk to the emulator, moto or real AWS.
"""

from django.conf import settings
from pynamodb.models import Model

TABLES: dict[str, type[Model]] = {}


def table(short_name: str):
    def register(model: type[Model]) -> type[Model]:
        if short_name in TABLES and TABLES[short_name] is not model:
            raise ValueError(f"Two models claim the DynamoDB table {short_name!r}.")
        TABLES[short_name] = model
        _bind(model, short_name)
        return model

    return register


def table_name(short_name: str) -> str:
    return f"payflow-{settings.PAYFLOW_ENV}-{short_name}"


def _bind(model: type[Model], short_name: str) -> None:
    meta = model.Meta
    meta.table_name = table_name(short_name)
    meta.host = settings.AWS_ENDPOINT_URL
    meta.region = settings.AWS_REGION
    meta.aws_access_key_id = settings.AWS_ACCESS_KEY_ID
    meta.aws_secret_access_key = settings.AWS_SECRET_ACCESS_KEY
    meta.billing_mode = "PAY_PER_REQUEST"
    meta.connect_timeout_seconds = settings.AWS_CALL_TIMEOUT_SECONDS
    meta.read_timeout_seconds = settings.AWS_CALL_TIMEOUT_SECONDS
    meta.max_retry_attempts = 2
    # PynamoDB caches its connection on the class; drop it so the next call
    # uses the settings just applied.
    model._connection = None


def bind_tables() -> None:
    for short_name, model in TABLES.items():
        _bind(model, short_name)
