import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from payflow.celery import app
from settings import base
from settings.base import aws_dependent_settings

REPO = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "settings.production",
    "DJANGO_SECRET_KEY": "x" * 64 + "-production-like-secret-for-the-check",
    "DJANGO_ALLOWED_HOSTS": "payflow.example.com",
    "DATABASE_URL": "postgres://payflow@127.0.0.1:5432/payflow",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SQS_QUEUE_URL_BASE": "https://sqs.eu-west-1.amazonaws.com/123456789012",
    "AWS_REGION": "eu-west-1",
}


def primitives(**overrides) -> dict:
    names = [name for name in dir(base) if name.isupper()]
    return {name: getattr(base, name) for name in names} | overrides


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "DATABASE_", "REDIS_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=clean | env, capture_output=True, text=True
    )


def test_production_passes_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SQS_QUEUE_URL_BASE"])
def test_production_refuses_to_start_without_a_required_variable(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_local_broker_points_at_the_emulator_with_encoded_credentials():
    derived = aws_dependent_settings(
        primitives(
            AWS_ENDPOINT_URL="http://127.0.0.1:4566",
            AWS_ACCESS_KEY_ID="key/with+slash",
            AWS_SECRET_ACCESS_KEY="s3cr=t",
            STATICFILES_BACKEND="x",
        )
    )
    assert derived["CELERY_BROKER_URL"] == "sqs://key%2Fwith%2Bslash:s3cr%3Dt@127.0.0.1:4566"
    transport = derived["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert transport["is_secure"] is False
    assert transport["queue_name_prefix"] == "payflow-dev-"
    assert "predefined_queues" not in transport
    s3 = derived["STORAGES"]["default"]["OPTIONS"]
    assert s3["endpoint_url"] == "http://127.0.0.1:4566"
    assert s3["addressing_style"] == "path"
    assert s3["bucket_name"] == "payflow-dev-files"


def test_real_aws_uses_the_credential_chain_and_predefined_queues():
    derived = aws_dependent_settings(
        primitives(
            PAYFLOW_ENV="prod",
            SQS_PREDEFINED_QUEUES=True,
            SQS_QUEUE_URL_BASE="https://sqs.eu-west-1.amazonaws.com/123456789012/",
            STATICFILES_BACKEND="x",
        )
    )
    assert derived["CELERY_BROKER_URL"] == "sqs://"
    transport = derived["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert transport["predefined_queues"]["payflow-prod-webhooks"] == {
        "url": "https://sqs.eu-west-1.amazonaws.com/123456789012/payflow-prod-webhooks"
    }
    assert "endpoint_url" not in derived["STORAGES"]["default"]["OPTIONS"]


def test_visibility_timeout_must_outlast_the_longest_task():
    with pytest.raises(ImproperlyConfigured, match="SQS_VISIBILITY_TIMEOUT"):
        aws_dependent_settings(primitives(SQS_VISIBILITY_TIMEOUT=60, CELERY_TASK_TIME_LIMIT=60))


def test_a_poll_loop_counts_as_stalled_only_after_a_long_poll_could_have_ended():
    with pytest.raises(ImproperlyConfigured, match="SQS_POLL_STALL_SECONDS"):
        aws_dependent_settings(primitives(SQS_POLL_STALL_SECONDS=10, SQS_WAIT_TIME_SECONDS=10))
    derived = aws_dependent_settings(primitives(SQS_POLL_STALL_SECONDS=45))
    assert derived["CELERY_BROKER_TRANSPORT_OPTIONS"]["poll_stall_seconds"] == 45
    assert app.conf.broker_transport == "payflow.aws.broker:Transport"


def test_predefined_queues_need_their_url_base():
    with pytest.raises(ImproperlyConfigured, match="SQS_QUEUE_URL_BASE"):
        aws_dependent_settings(primitives(SQS_PREDEFINED_QUEUES=True, STATICFILES_BACKEND="x"))


def test_celery_keeps_unfinished_and_failed_tasks_on_sqs():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_acks_on_failure_or_timeout is False
    assert conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_celery_routes_tasks_to_their_queues():
    router = app.amqp.router
    assert router.route({}, "payments.tasks.process_payment_task")["queue"].name == "payments"
    assert router.route({}, "payments.tasks.settle_day_task")["queue"].name == "settlement"
    assert router.route({}, "webhooks.tasks.deliver_webhook_task")["queue"].name == "webhooks"


def test_manage_py_defaults_to_local_settings_with_no_environment():
    result = manage("diffsettings", "--all", env={})
    assert "AWS_ENDPOINT_URL = 'http://127.0.0.1:4566'" in result.stdout


def test_production_refuses_webhooks_to_metadata_private_and_loopback_addresses():
    code = (
        "from payflow.errors import ApplicationError\n"
        "from webhooks.urls_check import webhook_url_check\n"
        "for url in ('http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/hook',\n"
        "            'https://localhost/hook', 'https://[::1]/hook'):\n"
        "    try:\n"
        "        webhook_url_check(url)\n"
        "    except ApplicationError as error:\n"
        "        print('refused', error.code, error.status)\n"
        "    else:\n"
        "        print('allowed', url)\n"
    )
    result = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    answers = [line for line in result.stdout.splitlines() if line.startswith(("refused", "allowed"))]
    assert answers == ["refused url_not_allowed 400"] * 4


def test_a_webhook_attempt_must_fit_in_a_task_and_a_countdown_in_the_visibility_timeout():
    with pytest.raises(ImproperlyConfigured, match="WEBHOOK_TIMEOUT_SECONDS"):
        aws_dependent_settings(primitives(WEBHOOK_TIMEOUT_SECONDS=100, CELERY_TASK_SOFT_TIME_LIMIT=100))
    with pytest.raises(ImproperlyConfigured, match="WEBHOOK_COUNTDOWN_MAX_SECONDS"):
        aws_dependent_settings(primitives(WEBHOOK_COUNTDOWN_MAX_SECONDS=60))


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"WORKER_METRICS_PORT": "9100", "PROMETHEUS_MULTIPROC_DIR": "/tmp/x"}, "PAYFLOW_OPERATIONS_TOKEN"),
        ({"WORKER_METRICS_PORT": "9100", "PAYFLOW_OPERATIONS_TOKEN": "t" * 32}, "PROMETHEUS_MULTIPROC_DIR"),
    ],
)
def test_a_workers_metrics_port_needs_a_token_and_the_multiprocess_directory(extra, named):
    result = manage("check", env=PRODUCTION_ENV | extra)
    assert result.returncode != 0
    assert named in result.stderr
