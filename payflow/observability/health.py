"""Dependency checks for /v1/health.

The three probes run in parallel on clients with short timeouts and one
attempt, and the whole check is bounded by HEALTH_CHECK_TIMEOUT_SECONDS, so
a hanging dependency turns into a prompt 503 instead of a hanging probe.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings

from payflow.aws.clients import aws_client
from payflow.aws.queues import bucket_name, queue_name, queue_url
from payflow.idempotency.tables import IdempotencyRecord

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=6, thread_name_prefix="health")


def _probe_dynamodb() -> None:
    # A read of a key that never exists: proves the endpoint and a table answer.
    aws_client("dynamodb", purpose="probe").get_item(
        TableName=IdempotencyRecord.Meta.table_name, Key={"key": {"S": "health-probe"}}
    )


def _probe_sqs() -> None:
    url = queue_url(queue_name(settings.CELERY_TASK_DEFAULT_QUEUE))
    aws_client("sqs", purpose="probe").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )


def _probe_s3() -> None:
    aws_client("s3", purpose="probe").head_bucket(Bucket=bucket_name())


PROBES = {"dynamodb": _probe_dynamodb, "sqs": _probe_sqs, "s3": _probe_s3}


def dependencies_check() -> dict[str, str]:
    """Map each dependency to "ok", "timeout" or "unavailable"."""
    deadline = time.monotonic() + settings.HEALTH_CHECK_TIMEOUT_SECONDS
    futures = {name: _executor.submit(probe) for name, probe in PROBES.items()}
    checks = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            checks[name] = "ok"
        except FutureTimeout:
            checks[name] = "timeout"
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy", and is logged
            logger.warning("health probe %s failed: %s", name, exc)
            checks[name] = "unavailable"
    return checks
