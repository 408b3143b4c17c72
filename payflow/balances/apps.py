from django.apps import AppConfig


class BalancesConfig(AppConfig):
    name = "payflow.balances"
    label = "payflow_balances"
    verbose_name = "Balances and ledger"
