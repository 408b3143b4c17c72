from django.apps import AppConfig


class AuthConfig(AppConfig):
    name = "payflow.auth"
    label = "payflow_auth"
    verbose_name = "API authentication"

    def ready(self):
        from . import schema  # noqa: F401 - registers the OpenAPI security scheme
