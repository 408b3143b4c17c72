from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "payflow.audit"
    label = "payflow_audit"
    verbose_name = "Audit trail"
