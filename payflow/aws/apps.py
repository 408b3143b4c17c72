from celery.signals import worker_init
from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.module_loading import autodiscover_modules


class AwsConfig(AppConfig):
    name = "payflow.aws"
    label = "payflow_aws"
    verbose_name = "AWS resources"

    def ready(self):
        from . import dynamodb

        # Every app declares its PynamoDB models in tables.py.
        autodiscover_modules("tables")
        dynamodb.bind_tables()

        def rebind(*, setting, **kwargs):
            # Clients are cached per endpoint and credentials, so only the
            # tables need to follow.
            if setting.startswith("AWS_") or setting == "PAYFLOW_ENV":
                dynamodb.bind_tables()

        setting_changed.connect(rebind, weak=False, dispatch_uid="payflow.aws.rebind")
        # A worker's clients are made before its pool starts: prefork children inherit
        # them (no connection is open yet), threads share them.
        worker_init.connect(lambda **kwargs: dynamodb.clients_warm(), weak=False)
