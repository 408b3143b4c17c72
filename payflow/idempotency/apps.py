from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "payflow.idempotency"
    label = "payflow_idempotency"
    verbose_name = "Idempotency"
