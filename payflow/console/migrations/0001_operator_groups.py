"""The operators' roles: "Operator (read only)" sees everything, "Operator (payments)" may also act."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READ_ONLY = {
    "payments": ["view_payment", "view_refund", "view_settlement"],
    "customers": ["view_customer", "view_disbursement"],
    "webhooks": ["view_webhookendpoint", "view_webhookdelivery"],
    "payflow_events": ["view_event"],
    "payflow_aws": ["view_queue"],
    "merchants": ["view_merchant", "view_apikey"],
    "django_celery_beat": [
        "view_periodictask",
        "view_crontabschedule",
        "view_intervalschedule",
        "view_clockedschedule",
        "view_solarschedule",
    ],
}
PAYMENTS = {
    "payments": ["retry_payment", "refund_payment", "cancel_payment", "run_settlement"],
    "webhooks": ["redeliver_webhook", "enable_webhook_endpoint"],
    "payflow_aws": ["redrive_queue"],
}
GROUPS = {
    "Operator (read only)": [READ_ONLY],
    "Operator (payments)": [READ_ONLY, PAYMENTS],
}


def _permissions(apps, grants):
    Permission = apps.get_model("auth", "Permission")
    wanted = [(label, codename) for grant in grants for label, codenames in grant.items() for codename in codenames]
    found = []
    for label, codename in wanted:
        found.append(Permission.objects.get(content_type__app_label=label, codename=codename))
    return found


def groups_create(apps, schema_editor):
    # Permissions are normally created after all migrations ran; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, grants in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(apps, grants))


def groups_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("payments", "0003_admin_placeholders"),
        ("customers", "0002_admin_placeholders"),
        ("webhooks", "0002_admin_placeholders"),
        ("payflow_events", "0001_admin_placeholders"),
        ("payflow_aws", "0001_admin_placeholders"),
        ("merchants", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(groups_create, groups_delete)]
