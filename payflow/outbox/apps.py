from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "payflow.outbox"
    label = "payflow_outbox"
    verbose_name = "Outbox"
