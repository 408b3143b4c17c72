from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "payflow.console"
    label = "console"
    verbose_name = "Operator console"
