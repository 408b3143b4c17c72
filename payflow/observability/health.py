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
from django.core.cache import cache
from django.db import connection

from payflow.aws.clients import aws_client
from payflow.aws.queues import bucket_name, queue_name, queue_url
from payflow.idempotency.tables import IdempotencyRecord

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=12, thread_name_prefix="health")


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


def _probe_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # the probe's thread keeps no connection of its own


def _probe_cache() -> None:
    cache.get("payflow-health-probe")


def _probe_rate_limiter() -> None:
    from payflow.ratelimit.limiter import _store

    _store(settings.RATE_LIMIT_STORE_URL, f"payflow-{settings.PAYFLOW_ENV}").take(
        "health-probe", 1000.0, 1000
    )


# The deep check (operators only) adds what the API needs besides AWS.
DEEP_PROBES = {
    **PROBES,
    "database": _probe_database,
    "cache": _probe_cache,
    "rate_limiter": _probe_rate_limiter,
}


def _timed(probe) -> float:
    started = time.perf_counter()
    probe()
    return (time.perf_counter() - started) * 1000


def dependencies_check(*, deep: bool = False) -> tuple[dict[str, str], dict[str, float | None]]:
    """Each dependency's state ("ok", "timeout" or "unavailable") and how long it took to answer (ms)."""
    deadline = time.monotonic() + settings.HEALTH_CHECK_TIMEOUT_SECONDS
    probes = DEEP_PROBES if deep else PROBES
    futures = {name: _executor.submit(_timed, probe) for name, probe in probes.items()}
    checks: dict[str, str] = {}
    latencies: dict[str, float | None] = {}
    for name, future in futures.items():
        latencies[name] = None
        try:
            latencies[name] = round(future.result(timeout=max(0.0, deadline - time.monotonic())), 1)
            checks[name] = "ok"
        except FutureTimeout:
            checks[name] = "timeout"
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy", and is logged
            logger.warning("health probe %s failed: %s", name, exc)
            checks[name] = "unavailable"
    return checks, latencies
