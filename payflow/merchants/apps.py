from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "payflow.merchants"
    label = "merchants"
    verbose_name = "Merchants and API keys"
