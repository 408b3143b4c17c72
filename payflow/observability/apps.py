from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "payflow.observability"
    label = "payflow_observability"
    verbose_name = "Observability"
